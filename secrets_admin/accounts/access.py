"""Who may do what: the server-side half of the README permission matrix.

`require_groups` is the only gate views need; superusers get no bypass (they must be in a group).
"""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied


def user_in(user, *group_names: str) -> bool:
    """True when `user` is authenticated and a member of at least one of `group_names`."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return user.groups.filter(name__in=group_names).exists()


def require_groups(*group_names: str):
    """View decorator: login required (redirect), then 403 unless the user is in one group."""
    if not group_names:
        raise ValueError("require_groups needs at least one group name")

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not user_in(request.user, *group_names):
                raise PermissionDenied("Your groups do not allow this page.")
            return view(request, *args, **kwargs)

        return login_required(wrapped)

    return decorator
