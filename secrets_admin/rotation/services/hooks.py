"""Setting a rotation hook: one short audited transaction; the URL and key are encrypted first."""

from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import transaction

from secrets_admin.accounts import crypto
from secrets_admin.accounts.stepup import verify_step_up
from secrets_admin.audit.services import actor_name, record
from secrets_admin.inventory.models import RotationPolicy, Secret
from secrets_admin.rotation import actions
from secrets_admin.rotation.models import RotationHook

MIN_KEY_LENGTH = 16


def hook_purpose(target, doing: str = "") -> str:
    """What a one-time code is bound to: setting (or, doing="clear", clearing) this hook."""
    return f"rotation.hook{'.' + doing if doing else ''}:{target._meta.model_name}:{target.pk}"


def clean_hook(url: str, key: str) -> tuple[str, str]:
    """The URL's host; ValidationError (in words) for a URL or key that cannot work."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError("The hook URL must be an http:// or https:// address.", code="bad_url")
    if len(key or "") < MIN_KEY_LENGTH:
        raise ValidationError(
            f"The signing key must have at least {MIN_KEY_LENGTH} characters.", code="short_key"
        )
    return parts.netloc.rsplit("@", 1)[-1], key


def do_set_hook(target: Secret | RotationPolicy, *, actor, url: str, key: str, code=None, request=None):
    """Create or replace the hook of `target` (a Secret or a RotationPolicy). People need a
    one-time code bound to the target (`code`); system actors (seed_demo) pass none.
    Raises ValidationError, StepUpFailed. Returns the hook."""
    host, key = clean_hook(url, key)
    field = "secret" if isinstance(target, Secret) else "policy"
    with transaction.atomic():
        if code is not None or not isinstance(actor, str):
            verify_step_up(actor, code or "", purpose=hook_purpose(target), request=request)
        hook, _ = RotationHook.objects.update_or_create(
            **{field: target},
            defaults={
                "host": host,
                "encrypted_url": crypto.encrypt(url.encode()),
                "encrypted_key": crypto.encrypt(key.encode()),
                "updated_by": actor_name(actor),
            },
        )
        record(
            actions.HOOK_UPDATED,
            actor=actor,
            target=target,
            data={"host": host, "for": field},
            request=request,
        )
    return hook


def do_clear_hook(target: Secret | RotationPolicy, *, actor, code: str, request=None) -> bool:
    """Remove the hook of `target`, with a one-time code bound to clearing it; its secrets then
    use their own hook or rotate as a plain value. False when it had none (the code is not
    spent). Raises StepUpFailed."""
    field = "secret" if isinstance(target, Secret) else "policy"
    with transaction.atomic():
        hook = RotationHook.objects.select_for_update().filter(**{field: target}).first()
        if hook is None:
            return False
        verify_step_up(actor, code or "", purpose=hook_purpose(target, "clear"), request=request)
        host = hook.host
        hook.delete()
        data = {"host": host, "for": field}
        record(actions.HOOK_REMOVED, actor=actor, target=target, data=data, request=request)
    return True
