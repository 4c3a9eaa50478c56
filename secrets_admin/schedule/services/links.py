"""Links between secrets that must never rotate at the same moment, with a one-time code."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from secrets_admin.accounts.stepup import verify_step_up
from secrets_admin.audit.services import actor_name, record
from secrets_admin.inventory.models import Secret
from secrets_admin.schedule import actions
from secrets_admin.schedule.models import SecretLink
from secrets_admin.schedule.services import clean


def do_link(secret_id: int, other_id: int, *, actor, otp: str, reason: str, request=None) -> SecretLink:
    """Link two secrets (either order: stored once per pair). Raises ValidationError (a secret
    linked to itself, an unknown secret, a pair already linked — also when another person links
    it at the same moment), StepUpFailed; nothing is saved then."""
    reason = clean.link_reason(reason)
    if int(secret_id) == int(other_id):
        raise ValidationError("A secret cannot be linked to itself; pick two different secrets.")
    first_id, second_id = sorted((int(secret_id), int(other_id)))
    secrets = Secret.objects.in_bulk([first_id, second_id])
    if len(secrets) != 2:
        raise ValidationError("One of the two secrets is not in the inventory (any more).")
    if SecretLink.objects.filter(first_id=first_id, second_id=second_id).exists():
        raise ValidationError(_already(secrets[first_id], secrets[second_id]))
    try:
        with transaction.atomic():
            verify_step_up(actor, otp, purpose=f"schedule.link:{first_id}:{second_id}", request=request)
            link = SecretLink.objects.create(
                first_id=first_id, second_id=second_id, reason=reason, created_by=actor_name(actor)
            )
            data = {"other": str(secrets[second_id]), "other_id": second_id, "reason": reason}
            record(actions.LINK_CREATED, actor=actor, target=secrets[first_id], data=data, request=request)
    except IntegrityError:  # linked by someone else between our check and our insert
        raise ValidationError(_already(secrets[first_id], secrets[second_id])) from None
    return link


def do_unlink(link_id: int, *, actor, otp: str, request=None) -> None:
    """Remove a link. Raises SecretLink.DoesNotExist, StepUpFailed; nothing changes then."""
    with transaction.atomic():
        link = SecretLink.objects.select_for_update().select_related("first", "second").get(pk=link_id)
        verify_step_up(actor, otp, purpose=f"schedule.unlink:{link_id}", request=request)
        data = {"other": str(link.second), "other_id": link.second_id, "reason": link.reason}
        link.delete()
        record(actions.LINK_REMOVED, actor=actor, target=link.first, data=data, request=request)


def _already(first, second) -> str:
    return f"{first} and {second} are already linked."
