"""Two-way metadata: a console edit is written to the backend and the inventory together."""

from django.core.exceptions import ValidationError
from django.db import transaction

from secrets_admin.accounts.stepup import verify_step_up
from secrets_admin.audit.services import record
from secrets_admin.backends import get_backend
from secrets_admin.inventory import actions
from secrets_admin.inventory.models import Secret
from secrets_admin.inventory.models.choices import Environment
from secrets_admin.inventory.services import status as status_service

EDITABLE = ("owner_team", "purpose", "environment")


def clean_changes(changes: dict) -> dict:
    """Only the console-owned fields, as stripped strings; ValidationError for anything else."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationError(f"These fields cannot be edited here: {', '.join(sorted(unknown))}.")
    cleaned = {key: str(value or "").strip() for key, value in changes.items()}
    if "environment" in cleaned and cleaned["environment"] not in Environment.values:
        raise ValidationError(f"Environment must be one of {', '.join(Environment.values)}.")
    if len(cleaned.get("owner_team", "")) > 128:
        raise ValidationError("Owner team must be at most 128 characters.")
    if len(cleaned.get("purpose", "")) > 500:
        raise ValidationError("Purpose must be at most 500 characters.")
    return cleaned


def do_update_metadata(secret_id: int, *, actor, changes: dict, otp: str, request=None) -> Secret:
    """Write owner/purpose/environment to the backend and the inventory, audited, or change nothing.

    Order inside one transaction: step-up code, row lock, new values + audit entry, then the
    backend write last — if the backend refuses (BackendError) everything rolls back, the code
    included, so the user can fix the problem and retry. Raises StepUpFailed, ValidationError,
    BackendError, Secret.DoesNotExist."""
    cleaned = clean_changes(changes)
    with transaction.atomic():
        verify_step_up(actor, otp, purpose=f"inventory.secret.update:{secret_id}", request=request)
        secret = Secret.objects.select_for_update().get(pk=secret_id)
        if not secret.writable:
            raise ValidationError(f"{secret.get_kind_display()} metadata is read-only in its backend.")
        diff = {k: [getattr(secret, k), v] for k, v in cleaned.items() if getattr(secret, k) != v}
        if not diff:
            return secret
        for key, (_old, new) in diff.items():
            setattr(secret, key, new)
        if "environment" in diff and secret.problem.startswith("environment "):
            secret.problem = "; ".join(
                p for p in secret.problem.split("; ") if not p.startswith("environment ")
            )
        status_service.refresh(secret)
        secret.save(update_fields=[*diff, "problem", "status", "next_due"])
        record(actions.SECRET_UPDATED, actor=actor, target=secret, data={"changes": diff}, request=request)
        get_backend(secret.backend).write_metadata(
            secret.path,
            {"owner": secret.owner_team, "purpose": secret.purpose, "environment": secret.environment},
        )
    return secret
