"""Approving: one fresh one-time code per group slot, verified inside the approval transaction
and bound to the request hash. The final approval records the grant and its intent in that same
transaction, then issues the OpenBao token outside it (services.grants)."""

from datetime import timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from breakglass import actions, live, notify
from breakglass.models import AccessRequest, Approval, Grant
from breakglass.models.request import Status
from breakglass.services import grants
from breakglass.services.common import Refused, audited_refusals
from secrets_admin.accounts.stepup import StepUpFailed, verify_step_up
from secrets_admin.audit import intents
from secrets_admin.audit.services import record


def purpose(access: AccessRequest) -> str:
    return f"breakglass.approve:{access.request_hash}"


def open_slots(access: AccessRequest, user) -> list[str]:
    """The groups whose slot `user` could fill now (in the request's group order)."""
    return _open(access, _taken(access), set(user.groups.values_list("name", flat=True)))


def _taken(access) -> dict[str, int]:
    """Live approvals of `access`: group -> approver id (one query)."""
    return dict(access.approvals.filter(voided_at__isnull=True).values_list("group", "approver_id"))


def _open(access, taken: dict, mine: set) -> list[str]:
    return [g for g in access.groups if g not in taken and g in mine]


def do_approve(
    request_id: int, *, actor: User, code: str, seen_hash: str | None = None, request=None
) -> AccessRequest:
    """Fill one group slot of a pending request. On the last slot the request is approved (the
    access clock starts) and its token issued before this returns.

    Refused (audited, nothing changed): the requester, a person outside the open slots or who
    already holds one, a request that is no longer pending, expired, or was edited since the
    approver read it (`seen_hash`); a wrong, reused or stale code (StepUpFailed, recorded after
    the rollback by the step-up machinery)."""
    final = None
    with audited_refusals(actor=actor, request_id=request_id, doing="approve", request=request):
        with transaction.atomic():
            access = AccessRequest.objects.select_for_update().get(pk=request_id)
            taken = _taken(access)  # read once, under the row lock: the slots cannot move now
            slot = _check(access, actor, seen_hash, taken)
            proof = verify_step_up(actor, code, purpose=purpose(access), request=request)
            approval = Approval.objects.create(
                request=access,
                group=slot,
                approver=actor,
                approver_name=actor.get_username(),
                request_hash=access.request_hash,
                used_code=proof,
            )
            seconds = int((timezone.now() - access.created_at).total_seconds())
            record(
                actions.APPROVED,
                actor=actor,
                target=access,
                data={
                    "group": slot,
                    "request_hash": access.request_hash,
                    "approval": approval.pk,
                    "code_step": proof.step if proof else None,
                    "seconds_after_request": seconds,
                },
                request=request,
            )
            if set(access.groups) <= {*taken, slot}:
                final = _approve(access, actor=actor, request=request)
            transaction.on_commit(live.changed)
    if final is not None:
        grants.issue(final, actor=actor, request=request)
        access.refresh_from_db()
    return access


def _check(access: AccessRequest, actor, seen_hash, taken: dict) -> str:
    """Refuse what may not be approved; returns the slot (group) the actor fills."""
    if access.requester_id == actor.pk:
        raise Refused("You cannot approve your own request.", why="self")
    if access.status != Status.PENDING:
        raise Refused(f"This request is already {access.get_status_display().lower()}.", why="decided")
    if access.pending_until <= timezone.now():
        raise Refused("This request expired before it was approved; it must be asked again.", why="expired")
    if seen_hash and seen_hash != access.request_hash:
        raise Refused(
            "This request was edited after you opened it: read it again before approving.", why="edited"
        )
    if actor.pk in taken.values():
        raise Refused(
            "You already approved this request; another person must fill the other slot.", why="twice"
        )
    mine = set(actor.groups.values_list("name", flat=True))
    if not mine & set(access.groups):
        raise Refused(
            f"Only members of {' or '.join(access.groups)} may approve this request.", why="not_approver"
        )
    slots = _open(access, taken, mine)
    if not slots:
        raise Refused("Your group's slot is already filled.", why="slot_filled")
    return slots[0]


def _approve(access: AccessRequest, *, actor, request):
    """Inside the approval transaction: the request approved, the grant row and its intent."""
    from secrets_admin.backends.vault_tokens import POLICY_PREFIX

    now = timezone.now()
    access.status = Status.APPROVED
    access.approved_at = access.decided_at = now
    access.save(update_fields=["status", "approved_at", "decided_at"])
    grant = Grant.objects.create(
        request=access,
        backend=access.scope[0]["backend"],
        policy_name=f"{POLICY_PREFIX}{access.pk}",
        expires_at=now + timedelta(seconds=access.duration_seconds),
    )
    intent = intents.begin(
        actions.GRANT_INTENT,
        key=f"breakglass.request:{access.pk}",
        actor=actor,
        data={"grant": grant.pk, "request": access.pk, "policy": grant.policy_name, "paths": access.paths},
        request=request,
    )
    transaction.on_commit(lambda: notify.later("decided", access.pk))
    return grant, intent


__all__ = ["StepUpFailed", "do_approve", "open_slots", "purpose"]
