"""Breaks stay open until a person acknowledges them.

A verification that finds a break records it (an AuditCheckpoint with ok=False and a
fingerprint). Later runs, intact or not, never hide it: the audit page, the banner and /readyz
keep showing every break whose fingerprint nobody acknowledged. A security-team member
acknowledges one with a one-time code and a note (audited as `audit.break.acknowledged`); from
then on verifications step over that exact break (the entry as it is stored now), so a new
break anywhere else is still found. An acknowledged anchor mismatch disowns that anchor
version: the next run verifies the chain in full and anchors it anew.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from secrets_admin.accounts.access import user_in
from secrets_admin.accounts.stepup import verify_step_up
from secrets_admin.audit import actions, alerting
from secrets_admin.audit.models import AuditCheckpoint, BreakAcknowledgement
from secrets_admin.audit.services import actor_name, record
from secrets_admin.roles import SECURITY_TEAM

MAX_SHOWN = 20


def open_breaks(limit: int = MAX_SHOWN) -> list[AuditCheckpoint]:
    """Unacknowledged breaks, newest first, one (the newest sighting) per fingerprint."""
    rows = (
        AuditCheckpoint.objects.filter(ok=False)
        .exclude(fingerprint__in=BreakAcknowledgement.objects.values("fingerprint"))
        .order_by("-created_at", "-id")
    )
    seen, found = set(), []
    for checkpoint in rows[: limit * 10]:
        if checkpoint.fingerprint not in seen:
            seen.add(checkpoint.fingerprint)
            found.append(checkpoint)
            if len(found) == limit:
                break
    return found


def do_acknowledge_break(
    checkpoint_id: int, *, actor, otp: str, note: str, request=None
) -> BreakAcknowledgement:
    """Acknowledge the break recorded by checkpoint `checkpoint_id`: one-time code (bound to the
    break), the acknowledgement and its audit entry, in one short transaction.

    The code is spent once it passed, even if the acknowledgement then fails. Raises
    PermissionDenied (not security-team), ValidationError (no note, not a break, already
    acknowledged), StepUpFailed (code), AuditCheckpoint.DoesNotExist."""
    if not user_in(actor, SECURITY_TEAM):
        raise PermissionDenied("Only the security team acknowledges breaks of the audit chain.")
    note = " ".join((note or "").split())
    if len(note) < 10:
        raise ValidationError("Say in a sentence what you found and did (at least 10 characters).")
    checkpoint = AuditCheckpoint.objects.get(pk=checkpoint_id)
    if checkpoint.ok or not checkpoint.fingerprint:
        raise ValidationError("That verification found no break.")
    if BreakAcknowledgement.objects.filter(fingerprint=checkpoint.fingerprint).exists():
        raise ValidationError("Someone already acknowledged this break.")
    with transaction.atomic():  # the code is spent once it passed, whatever happens next
        verify_step_up(
            actor, otp, purpose=f"audit.break.acknowledge:{checkpoint.fingerprint}"[:255], request=request
        )
    try:
        with transaction.atomic():
            acknowledgement = BreakAcknowledgement.objects.create(
                fingerprint=checkpoint.fingerprint,
                checkpoint=checkpoint,
                broken_at=checkpoint.broken_at or 0,
                actor_name=actor_name(actor),
                note=note[:2000],
            )
            record(
                actions.BREAK_ACKNOWLEDGED,
                actor=actor,
                target=checkpoint,
                data={
                    "fingerprint": checkpoint.fingerprint,
                    "broken_at": checkpoint.broken_at,
                    "kind": checkpoint.kind,
                    "problem": checkpoint.problem[:500],
                    "note": acknowledgement.note,
                },
                request=request,
            )
    except IntegrityError:  # the fingerprint is unique: someone else was faster
        raise ValidationError("Someone already acknowledged this break.") from None
    if not open_breaks(limit=1):
        alerting.clear("break")
    return acknowledgement
