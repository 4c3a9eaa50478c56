"""Per-secret overrides and exemptions, with a one-time code, recorded old → new."""

from django.db import transaction

from secrets_admin.accounts.stepup import verify_step_up
from secrets_admin.audit.services import actor_name, record
from secrets_admin.inventory.models import Secret
from secrets_admin.inventory.services import status as status_service
from secrets_admin.schedule import actions
from secrets_admin.schedule.models import SecretOverride
from secrets_admin.schedule.services import clean

FIELDS = ("interval_days", "lead_days", "strategy", *clean.WINDOW_FIELDS, "exempt_until", "exempt_reason")


def override_values(override: SecretOverride | None) -> dict:
    blank = SecretOverride()
    return {name: getattr(override or blank, name) for name in FIELDS}


def do_set_override(secret_id: int, *, actor, otp: str, values: dict, request=None) -> dict:
    """Create or change the secret's override. Returns {field: [old, new]} (empty: no change).
    Raises ValidationError (checked before the code is spent), StepUpFailed or
    Secret.DoesNotExist; nothing is saved then."""
    cleaned = clean.override(values)
    with transaction.atomic():
        verify_step_up(actor, otp, purpose=f"schedule.override.set:{secret_id}", request=request)
        secret = Secret.objects.select_for_update().get(pk=secret_id)
        override = SecretOverride.objects.select_for_update().filter(secret=secret).first()
        before = override_values(override)
        changes = {
            name: [clean.for_audit(before[name]), clean.for_audit(value)]
            for name, value in cleaned.items()
            if before[name] != value
        }
        created = override is None
        if not created and not changes:
            return {}
        override = override or SecretOverride(secret=secret)
        for name, value in cleaned.items():
            setattr(override, name, value)
        override.updated_by = actor_name(actor)
        override.save()
        data = {"changes": changes, "created": created, **_refresh_due(secret)}
        record(actions.OVERRIDE_SAVED, actor=actor, target=secret, data=data, request=request)
    return changes


def do_remove_override(secret_id: int, *, actor, otp: str, request=None) -> bool:
    """Remove the secret's override: it follows its policy again. False when it had none (the
    code is not spent then). Raises StepUpFailed, Secret.DoesNotExist."""
    with transaction.atomic():
        secret = Secret.objects.select_for_update().get(pk=secret_id)
        override = SecretOverride.objects.select_for_update().filter(secret=secret).first()
        if override is None:
            return False
        verify_step_up(actor, otp, purpose=f"schedule.override.remove:{secret_id}", request=request)
        removed = {name: clean.for_audit(value) for name, value in override_values(override).items()}
        override.delete()
        data = {"removed": removed, **_refresh_due(secret)}
        record(actions.OVERRIDE_REMOVED, actor=actor, target=secret, data=data, request=request)
    return True


def _refresh_due(secret) -> dict:
    """The inventory's next_due and status follow the override (status.due_facts reads it)."""
    before = secret.next_due
    if not status_service.refresh(secret):
        return {}
    secret.save(update_fields=["next_due", "status"])
    return {"next_due": [clean.for_audit(before), clean.for_audit(secret.next_due)]}
