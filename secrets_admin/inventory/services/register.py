"""Registering secrets from the console: import an existing backend secret, or create a new one
whose generated value lives only in the backend (never returned, shown or stored here)."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from secrets_admin.accounts.stepup import verify_step_up
from secrets_admin.audit import intents
from secrets_admin.audit.services import record
from secrets_admin.backends import BackendError, get_backend
from secrets_admin.inventory import actions
from secrets_admin.inventory.models import RotationPolicy, Secret, SecretVersion
from secrets_admin.inventory.models.choices import Kind
from secrets_admin.inventory.services import status as status_service
from secrets_admin.inventory.services.remote import aware, remote_fields

CREATABLE_KINDS = (Kind.API_KEY, Kind.PASSWORD)
CREATE_INTENT = "inventory.create"


def _check_new(backend: str, path: str, *, creating: bool = False) -> str:
    """The path, checked before the one-time code is spent and before any backend call: a plain
    path of that backend (BackendError "refused input" says what to fix), not known yet."""
    path = (path or "").strip()
    if not path or len(path) > 1024:
        raise ValidationError("Enter a path of at most 1024 characters.")
    get_backend(backend).check_path(path, creating=creating)
    if Secret.objects.filter(backend=backend, path=path).exists():
        raise ValidationError(f"{backend}:{path} is already in the inventory.")
    return path


def store_remote(remote, *, source: str, created_by: str) -> Secret:
    """Insert a RemoteSecret as a new inventory row with its lineage. Caller holds the transaction."""
    now = timezone.now()
    secret = Secret(
        backend=remote.backend, path=remote.path, last_seen=now, source=source, **remote_fields(remote)
    )
    secret.rotation_policy = RotationPolicy.objects.filter(kind=secret.kind, is_default=True).first()
    status_service.refresh(secret, secret.rotation_policy, now, status_service.NO_FACTS)
    secret.save()
    SecretVersion.objects.bulk_create(
        SecretVersion(
            secret=secret,
            version_id=str(v.version_id)[:200],
            stages=list(v.stages),
            created_at=aware(v.created_at),
            state="destroyed"
            if v.destroyed
            else "deprecated"
            if v.deprecated
            else "current"
            if v.current
            else "previous",
            created_by=(v.created_by or created_by)[:255],
        )
        for v in remote.versions
    )
    return secret


def do_import_secret(backend: str, path: str, *, actor, otp: str, request=None) -> Secret:
    """Describe an existing secret in `backend` and add it to the inventory.

    The code is spent once it passes; the backend is read outside any transaction; the new row
    and its audit entry are one short transaction. Raises StepUpFailed, ValidationError
    (already known, bad path), BackendError (not found, denied)."""
    path = _check_new(backend, path)
    with transaction.atomic():
        verify_step_up(actor, otp, purpose=f"inventory.secret.import:{backend}:{path}"[:255], request=request)
    remote = get_backend(backend).describe(path)
    with transaction.atomic():
        if Secret.objects.filter(backend=backend, path=remote.path).exists():
            raise ValidationError(f"{backend}:{remote.path} is already in the inventory.")
        secret = store_remote(remote, source="import", created_by="import")
        record(
            actions.SECRET_REGISTERED,
            actor=actor,
            target=secret,
            data={"backend": backend, "path": secret.path, "kind": secret.kind},
            request=request,
        )
    return secret


def do_create_secret(
    backend: str, path: str, *, actor, otp: str, kind: str, metadata: dict, request=None
) -> Secret:
    """Create a new API key or password in `backend` with a generated value, then add it.

    Checks first; then the code (spent once it passes), an intent and its audit entry; the
    backend call outside any transaction; then the inventory row, its audit entry and the
    intent done. If the backend refuses, the intent is failed and nothing is stored; a crash
    after the backend call is settled by the reconciler (`settle_create`). Raises StepUpFailed,
    ValidationError (ChangeInProgress while the same path is being created), BackendError."""
    path = _check_new(backend, path, creating=True)
    if kind not in CREATABLE_KINDS:
        raise ValidationError("Only API keys and passwords can be created with a generated value.")
    from secrets_admin.inventory.services.edit import clean_changes

    fields = clean_changes(metadata)
    wanted = {
        "owner": fields.get("owner_team", ""),
        "purpose": fields.get("purpose", ""),
        "environment": fields.get("environment", ""),
    }
    with transaction.atomic():
        verify_step_up(actor, otp, purpose=f"inventory.secret.create:{backend}:{path}"[:255], request=request)
    with transaction.atomic():
        data = {
            "backend": backend,
            "path": path,
            "kind": kind,
            "metadata": {k: v for k, v in wanted.items() if v},
        }
        intent = intents.begin(
            CREATE_INTENT, key=f"{backend}:{path}", actor=actor, data=data, request=request
        )
    try:
        remote = get_backend(backend).create_secret(path, kind=kind, metadata=data["metadata"])
    except BackendError as exc:
        intents.fail(intent, str(exc))
        raise
    return _store_created(intent, remote, actor=actor, request=request)


def _store_created(intent, remote, *, actor, request=None, settled: bool = False) -> Secret:
    """The inventory side of a created secret: its row (unless a sync found it first), audit, done."""
    with transaction.atomic():
        secret = Secret.objects.filter(backend=remote.backend, path=remote.path).first()
        if secret is None:
            created_by = f"console:{intent.actor_name}"
            secret = store_remote(remote, source="console", created_by=created_by)
        data = {
            "backend": remote.backend,
            "path": secret.path,
            "kind": intent.data["kind"],
            "intent": intent.pk,
        }
        if settled:
            data["settled_by"] = "reconciler"
        record(actions.SECRET_CREATED, actor=actor, target=secret, data=data, request=request)
        settled_first = not intents.finish(intent, result={"secret_id": secret.pk})
        if settled_first:
            transaction.set_rollback(True)  # the reconciler stored it already
    return Secret.objects.get(backend=remote.backend, path=remote.path) if settled_first else secret


def settle_create(intent) -> None:
    """Reconciler: a create whose process died after the intent. Store the secret if the backend
    has it (with the kind we asked for), fail the intent if it has not."""
    try:
        remote = get_backend(intent.data["backend"]).describe(intent.data["path"])
    except BackendError as exc:
        if not exc.permanent:
            raise  # the backend cannot be asked now: try again at the next run
        intents.fail(intent, f"the backend has no secret at this path: {exc}", settled=True)
        return
    if remote.metadata.get("kind") != intent.data["kind"]:
        intents.fail(intent, "the secret at this path was not created by this change", settled=True)
        return
    _store_created(intent, remote, actor=intent.actor or intent.actor_name, settled=True)
