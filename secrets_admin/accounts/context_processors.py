from django.utils.functional import SimpleLazyObject


def access(request):
    """`user_groups`: the names of the current user's groups (lazy; for nav links only —
    views enforce access with accounts.access.require_groups)."""

    def names():
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return frozenset()
        return frozenset(user.groups.values_list("name", flat=True))

    return {"user_groups": SimpleLazyObject(names)}
