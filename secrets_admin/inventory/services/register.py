"""Registering secrets from the console: import an existing backend secret, or create a new one
whose generated value lives only in the backend (never returned, shown or stored here)."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from secrets_admin.accounts.stepup import verify_step_up
from secrets_admin.audit.services import record
from secrets_admin.backends import get_backend
from secrets_admin.inventory import actions
from secrets_admin.inventory.models import RotationPolicy, Secret, SecretVersion
from secrets_admin.inventory.models.choices import Kind
from secrets_admin.inventory.services import status as status_service
from secrets_admin.inventory.services.sync import aware, remote_fields

CREATABLE_KINDS = (Kind.API_KEY, Kind.PASSWORD)


def _check_new(backend: str, path: str) -> str:
    path = (path or "").strip()
    if not path or len(path) > 1024 or any(ch in path for ch in "\r\n\t\0"):
        raise ValidationError("Enter a path of at most 1024 characters, on one line.")
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
    status_service.refresh(secret, secret.rotation_policy, now)
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

    Raises StepUpFailed, ValidationError (already known, bad path), BackendError (not found, denied)."""
    path = _check_new(backend, path)
    with transaction.atomic():
        verify_step_up(actor, otp, purpose=f"inventory.secret.import:{backend}:{path}"[:255], request=request)
        remote = get_backend(backend).describe(path)
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

    Step-up and checks come first; if the backend refuses, nothing is stored. If the backend
    created the secret but storing it fails, the next sync discovers it. Raises StepUpFailed,
    ValidationError, BackendError."""
    path = _check_new(backend, path)
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
        remote = get_backend(backend).create_secret(
            path, kind=kind, metadata={k: v for k, v in wanted.items() if v}
        )
        secret = store_remote(remote, source="console", created_by=f"console:{actor.get_username()}")
        record(
            actions.SECRET_CREATED,
            actor=actor,
            target=secret,
            data={"backend": backend, "path": secret.path, "kind": kind},
            request=request,
        )
    return secret
