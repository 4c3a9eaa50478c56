from django.utils.functional import SimpleLazyObject


def access(request):
    """`user_groups`: the names of the current user's groups (lazy; for nav links only —
    views enforce access with accounts.access.require_groups). `has_authenticator`: whether the
    user can answer a step-up code (code forms say how to set one up when not)."""

    def names():
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return frozenset()
        return frozenset(user.groups.values_list("name", flat=True))

    def authenticator():
        from secrets_admin.accounts.models import AuthenticatorDevice

        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return False
        return AuthenticatorDevice.objects.filter(user=user, confirmed=True).exists()

    return {"user_groups": SimpleLazyObject(names), "has_authenticator": SimpleLazyObject(authenticator)}
