"""Asking for access, editing a pending request, denying, and expiring unapproved requests."""

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from breakglass import actions, live, notify, policy
from breakglass.models import AccessRequest, Approval
from breakglass.models.request import Kind, Status
from breakglass.services.common import Refused, audited_refusals
from secrets_admin.accounts.access import user_in
from secrets_admin.audit.services import record


def _clean(kind, *, requester, reason, scope, duration, groups) -> dict:
    kind = policy.check_kind(kind)
    seconds = policy.parse_duration(duration) if isinstance(duration, str) else int(duration or 0)
    return {
        "kind": kind,
        "reason": policy.check_reason(reason),
        "scope": policy.check_scope(scope, requester=requester),
        "duration_seconds": policy.check_duration(kind, seconds or policy.default_seconds(kind)),
        "groups": policy.check_groups(kind, groups),
    }


def do_request(
    *,
    actor: User,
    kind: str,
    reason: str,
    scope: list[str],
    duration=None,
    groups=None,
    ticket: str = "",
    record_session: bool = True,
    request=None,
) -> AccessRequest:
    """Create a pending request (audited) and notify the approvers after the commit.
    Raises policy.RequestRefused / Refused (audited) for bad input; nothing is created then."""
    with audited_refusals(actor=actor, doing="request", request=request):
        if not user_in(actor, *policy.REQUESTERS):
            raise Refused(
                "Only developers, the security team and the CTO may ask for access.", why="not_requester"
            )
        fields = _clean(kind, requester=actor, reason=reason, scope=scope, duration=duration, groups=groups)
        with transaction.atomic():
            now = timezone.now()
            access = AccessRequest(
                requester=actor,
                requester_name=actor.get_username(),
                ticket=str(ticket or "").strip()[:200],
                record_session=bool(record_session),
                created_at=now,
                pending_until=now + policy.pending_window(),
                **fields,
            )
            access.request_hash = access.compute_hash()
            access.save()
            record(
                actions.REQUESTED,
                actor=actor,
                target=access,
                data={
                    "kind": access.kind,
                    "paths": access.paths,
                    "duration_seconds": access.duration_seconds,
                    "groups": access.groups,
                    "request_hash": access.request_hash,
                    "record_session": access.record_session,
                    "ticket": access.ticket,
                },
                request=request,
            )
            transaction.on_commit(lambda: notify.later("requested", access.pk))
            transaction.on_commit(live.changed)
    return access


def do_edit(request_id: int, *, actor: User, request=None, **changes) -> AccessRequest:
    """Change a pending request's reason, scope, duration, groups, ticket or recording; every
    live approval is voided (they approved something else). Only its requester may edit."""
    with audited_refusals(actor=actor, request_id=request_id, doing="edit", request=request):
        with transaction.atomic():
            access = AccessRequest.objects.select_for_update().get(pk=request_id)
            if access.requester_id != actor.pk:
                raise Refused("Only the person who asked can edit a request.", why="not_requester")
            if access.status != Status.PENDING or access.pending_until <= timezone.now():
                raise Refused("Only a pending request can be edited; ask again instead.", why="not_pending")
            fields = _clean(
                access.kind,
                requester=actor,
                reason=changes.get("reason", access.reason),
                scope=changes.get("scope", access.paths),
                duration=changes.get("duration", access.duration_seconds),
                groups=changes.get("groups", access.groups),
            )
            for name, value in fields.items():
                setattr(access, name, value)
            if "ticket" in changes:
                access.ticket = str(changes["ticket"] or "").strip()[:200]
            if "record_session" in changes:
                access.record_session = bool(changes["record_session"])
            old_hash, access.request_hash = access.request_hash, access.compute_hash()
            access.revision += 1
            access.edited_at = timezone.now()
            access.save()
            voided = Approval.objects.filter(request=access, voided_at__isnull=True).update(
                voided_at=timezone.now()
            )
            record(
                actions.EDITED,
                actor=actor,
                target=access,
                data={"old_hash": old_hash, "request_hash": access.request_hash, "approvals_voided": voided},
                request=request,
            )
            transaction.on_commit(live.changed)
    return access


def do_deny(request_id: int, *, actor: User, note: str = "", request=None) -> AccessRequest:
    """A final no, from any eligible approver (not the requester). Races with approvals end in
    one terminal state: both take the request's row lock and check it is still pending."""
    with audited_refusals(actor=actor, request_id=request_id, doing="deny", request=request):
        with transaction.atomic():
            access = AccessRequest.objects.select_for_update().get(pk=request_id)
            if access.requester_id == actor.pk:
                raise Refused("You cannot decide on your own request.", why="self")
            if not user_in(actor, *access.groups):
                raise Refused(
                    f"Only members of {' or '.join(access.groups)} may decide on this request.",
                    why="not_approver",
                )
            if access.status != Status.PENDING:
                raise Refused(
                    f"This request is already {access.get_status_display().lower()}.", why="decided"
                )
            access.status = Status.DENIED
            access.decided_at = timezone.now()
            access.denied_by = actor
            access.deny_note = str(note or "").strip()[:1000]
            access.save(update_fields=["status", "decided_at", "denied_by", "deny_note"])
            record(
                actions.DENIED, actor=actor, target=access, data={"note": access.deny_note}, request=request
            )
            transaction.on_commit(lambda: notify.later("decided", access.pk))
            transaction.on_commit(live.changed)
    return access


def expire_pending(*, now=None) -> int:
    """Beat: pending requests past their window become expired unapproved (one conditional
    UPDATE each, so an approval that won the row first stands). Returns how many."""
    now = now or timezone.now()
    expired = 0
    for pk in AccessRequest.objects.filter(status=Status.PENDING, pending_until__lte=now).values_list(
        "pk", flat=True
    )[:500]:
        with transaction.atomic():
            if not AccessRequest.objects.filter(pk=pk, status=Status.PENDING).update(
                status=Status.EXPIRED_UNAPPROVED, decided_at=now
            ):
                continue
            access = AccessRequest.objects.get(pk=pk)
            record(
                actions.EXPIRED,
                actor="celery:breakglass",
                target=access,
                data={"pending_until": access.pending_until.isoformat()},
            )
            transaction.on_commit(lambda pk=pk: notify.later("decided", pk))
            expired += 1
    if expired:
        live.changed()
    return expired


__all__ = ["Kind", "do_request", "do_edit", "do_deny", "expire_pending"]
