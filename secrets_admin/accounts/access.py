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


class GroupRequired(PermissionDenied):
    """403: the page is for members of `groups` (the error page names them and whom to ask)."""

    def __init__(self, groups):
        self.groups = tuple(groups)
        super().__init__(f"This page is for members of {' or '.join(self.groups)}.")


def require_groups(*group_names: str):
    """View decorator: login required (redirect), then 403 (GroupRequired) unless the user is
    in one of the groups."""
    if not group_names:
        raise ValueError("require_groups needs at least one group name")

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not user_in(request.user, *group_names):
                raise GroupRequired(group_names)
            return view(request, *args, **kwargs)

        return login_required(wrapped)

    return decorator
