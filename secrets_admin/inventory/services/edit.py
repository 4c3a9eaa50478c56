"""Two-way metadata: a console edit is written to the backend, then to the inventory (an intent
between the two, so no transaction waits on the backend and a crash is settled, never lost)."""

from django.core.exceptions import ValidationError
from django.db import transaction

from secrets_admin.accounts.stepup import verify_step_up
from secrets_admin.audit import intents
from secrets_admin.audit.services import record
from secrets_admin.backends import BackendError, get_backend
from secrets_admin.inventory import actions
from secrets_admin.inventory.models import Secret
from secrets_admin.inventory.models.choices import Environment
from secrets_admin.inventory.services import status as status_service

EDITABLE = ("owner_team", "purpose", "environment")
BACKEND_KEYS = {"owner": "owner_team", "purpose": "purpose", "environment": "environment"}
METADATA_INTENT = "inventory.metadata"


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

    No transaction is open during the backend call: (1) the step-up code is spent once it
    passes, whatever happens next; (2) an intent and its audit entry; (3) the backend write; (4)
    the inventory change, its audit entry and the intent done. If the backend refuses, the
    intent is failed (audited) and the inventory keeps its values; a crash between (3) and (4)
    is settled by the reconciler (`settle_metadata`). Raises StepUpFailed, ValidationError
    (ChangeInProgress while another edit of the secret is on its way), BackendError,
    Secret.DoesNotExist."""
    cleaned = clean_changes(changes)
    secret = Secret.objects.get(pk=secret_id)
    _diff(secret, cleaned)  # refuse a read-only secret before the code is spent
    get_backend(secret.backend).check_path(secret.path)  # and a path that is not one (issue 8)
    with transaction.atomic():
        verify_step_up(actor, otp, purpose=f"inventory.secret.update:{secret_id}", request=request)
    with transaction.atomic():
        secret = Secret.objects.select_for_update().get(pk=secret_id)
        diff = _diff(secret, cleaned)
        if not diff:
            return secret
        wanted = {key: new for key, (_old, new) in diff.items()}
        metadata = {name: wanted.get(field, getattr(secret, field)) for name, field in BACKEND_KEYS.items()}
        data = {"secret_id": secret.pk, "backend": secret.backend, "path": secret.path, "metadata": metadata}
        intent = intents.begin(
            METADATA_INTENT,
            key=f"inventory.secret:{secret.pk}",
            actor=actor,
            data={**data, "changes": diff},
            request=request,
        )
    try:
        get_backend(secret.backend).write_metadata(secret.path, metadata)
    except BackendError as exc:
        intents.fail(intent, str(exc))
        raise
    return _apply(intent, actor=actor, request=request)


def _diff(secret: Secret, cleaned: dict) -> dict:
    if not secret.writable:
        raise ValidationError(f"{secret.get_kind_display()} metadata is read-only in its backend.")
    return {k: [getattr(secret, k), v] for k, v in cleaned.items() if getattr(secret, k) != v}


def _apply(intent, *, actor, request=None, settled: bool = False) -> Secret:
    """The inventory side of a metadata edit the backend took: new values, audit, intent done."""
    with transaction.atomic():
        secret = Secret.objects.select_for_update().get(pk=intent.data["secret_id"])
        diff = intent.data["changes"]
        for key, (_old, new) in diff.items():
            setattr(secret, key, new)
        if "environment" in diff and secret.problem.startswith("environment "):
            secret.problem = "; ".join(
                p for p in secret.problem.split("; ") if not p.startswith("environment ")
            )
        status_service.refresh(secret)
        secret.save(update_fields=[*diff, "problem", "status", "next_due"])
        data = {"changes": diff, "intent": intent.pk, **({"settled_by": "reconciler"} if settled else {})}
        record(actions.SECRET_UPDATED, actor=actor, target=secret, data=data, request=request)
        settled_first = not intents.finish(intent)
        if settled_first:
            transaction.set_rollback(True)  # the reconciler settled it first; its outcome stands
    if settled_first:
        secret.refresh_from_db()
    return secret


def settle_metadata(intent) -> None:
    """Reconciler: a metadata edit whose process died after the intent. Finish it if the backend
    holds the new values, fail it if it does not; leave it while the backend cannot be asked."""
    if not Secret.objects.filter(pk=intent.data["secret_id"]).exists():
        intents.fail(intent, "the secret left the inventory before the edit was settled", settled=True)
        return
    try:
        remote = get_backend(intent.data["backend"]).describe(intent.data["path"])
    except BackendError as exc:
        if not exc.permanent:
            raise  # the backend cannot be asked now: try again at the next run
        intents.fail(intent, f"the backend no longer has this secret: {exc}", settled=True)
        return
    if all((remote.metadata.get(name) or "") == value for name, value in intent.data["metadata"].items()):
        _apply(intent, actor=intent.actor or intent.actor_name, settled=True)
    else:
        intents.fail(
            intent, "the backend does not hold the new values: the write never happened", settled=True
        )
