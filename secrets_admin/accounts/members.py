"""Group membership changes by the security team: step-up, audited, never one's own.

A service that writes its own `group.member.*` entry runs the change inside
`membership_audited()`, so the `m2m_changed` safety net in signals.py does not record it twice.
"""

import contextvars
from contextlib import contextmanager

from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from secrets_admin.accounts.access import user_in
from secrets_admin.accounts.stepup import verify_step_up
from secrets_admin.audit.services import record
from secrets_admin.roles import GROUPS, SECURITY_TEAM

ADD, REMOVE = "add", "remove"

_audited_by_service = contextvars.ContextVar("membership_audited_by_service", default=False)


@contextmanager
def membership_audited():
    """Group changes made inside this block are audited by the caller, not by the signal."""
    token = _audited_by_service.set(True)
    try:
        yield
    finally:
        _audited_by_service.reset(token)


def audited_by_service() -> bool:
    return _audited_by_service.get()


def _check(actor, user, group):
    if not user_in(actor, SECURITY_TEAM):
        raise PermissionDenied("Only the security team manages group membership.")
    if user.pk == actor.pk:
        raise ValidationError(
            "You cannot change your own groups; ask another security-team member.", code="own_membership"
        )
    if group.name not in GROUPS:
        raise ValidationError("That group is not managed by the console.", code="unknown_group")


def do_change_membership(*, actor, user, group: Group, change: str, otp_code: str, request=None) -> bool:
    """Add `user` to or remove them from `group`. Returns False when nothing had to change.

    Raises PermissionDenied (actor not security-team), ValidationError (own membership,
    unmanaged group) or StepUpFailed (code); in every case nothing changes.
    """
    if change not in (ADD, REMOVE):
        raise ValidationError("Choose add or remove.", code="bad_change")
    _check(actor, user, group)
    action = "group.member.added" if change == ADD else "group.member.removed"
    with transaction.atomic():
        purpose = f"{action}:{user.pk}:{group.pk}"
        verify_step_up(actor, otp_code, purpose=purpose, request=request)
        is_member = user.groups.filter(pk=group.pk).exists()
        if (change == ADD) == is_member:
            return False
        with membership_audited():
            if change == ADD:
                user.groups.add(group)
            else:
                user.groups.remove(group)
        record(
            action,
            actor=actor,
            target=user,
            data={"group": group.name, "username": user.get_username()},
            request=request,
        )
    return True


def record_refused(*, actor, reason: str, data: dict, request=None) -> None:
    """Audit a refused membership change (bad or tampered form input)."""
    with transaction.atomic():
        record("group.member.refused", actor=actor, data={"reason": reason, **data}, request=request)
