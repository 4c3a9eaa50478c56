"""MFA write paths: enrollment, login verification, recovery codes.

Each runs in one transaction and writes its audit entry there. A refused code still commits
its failure (throttle counter + `mfa.code.failed`) and then raises `ValidationError` with a
message for the form.
"""

import secrets

import django_otp
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from secrets_admin.accounts.models import (
    RECOVERY_CODE_COUNT,
    AuthenticatorDevice,
    RecoveryCode,
    RecoveryCodeDevice,
    hash_recovery_code,
    new_recovery_code,
)
from secrets_admin.accounts.stepup import verify_step_up
from secrets_admin.audit.services import record

AUTHENTICATOR_NAME = "Authenticator app"


def confirmed_authenticator(user) -> AuthenticatorDevice | None:
    return AuthenticatorDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def pending_authenticator(user) -> AuthenticatorDevice:
    """The user's unconfirmed authenticator, made (with a fresh random seed) if there is none.

    Not audited: an unconfirmed device cannot verify anything (django-otp only matches
    confirmed devices at login, and step-up only uses confirmed ones).
    """
    with transaction.atomic():
        device = AuthenticatorDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
        if device is None:
            device = AuthenticatorDevice(user=user, name=AUTHENTICATOR_NAME, confirmed=False)
            device.set_key(secrets.token_bytes(20))
            device.save()
        return device


def _throttle_message(device) -> str | None:
    allowed, info = device.verify_is_allowed()
    if allowed:
        return None
    wait = max(1, int((info["locked_until"] - timezone.now()).total_seconds()) + 1)
    return f"Too many wrong codes. Wait {wait} second{'s' if wait != 1 else ''} and try again."


def _refuse(user, *, purpose: str, reason: str, message: str, request=None):
    with transaction.atomic():
        record(
            "mfa.code.failed",
            actor=user,
            data={"purpose": purpose, "reason": reason, "step_up": False},
            request=request,
        )
    raise ValidationError(message, code=reason)


def record_invalid_form(user, *, purpose: str, request=None) -> None:
    """Audit a code form that did not even validate (empty, oversized, tampered hidden fields)."""
    try:
        _refuse(user, purpose=purpose, reason="invalid_form", message="", request=request)
    except ValidationError:
        pass


def record_refused_download(user, *, request=None) -> None:
    with transaction.atomic():
        record("mfa.recovery_codes.download_refused", actor=user, data={}, request=request)


def _clean(code) -> str:
    return "".join(str(code or "").split())


def do_confirm_authenticator(*, actor, device_id: int, code: str, request=None) -> list[str]:
    """Activate the pending authenticator `device_id` with a code from it.

    Returns the new recovery codes (shown once). Raises ValidationError (nothing changes but
    the throttle counter and the audit entry) when the code is wrong or the device is not the
    user's pending one.
    """
    code = _clean(code)
    device = AuthenticatorDevice.objects.filter(pk=device_id, user=actor, confirmed=False).first()
    if device is None:
        _refuse(
            actor,
            purpose="enroll",
            reason="no_pending_device",
            request=request,
            message="This setup expired or was already finished. Reload the page and start again.",
        )
    throttled = _throttle_message(device)
    if throttled:
        _refuse(actor, purpose="enroll", reason="throttled", message=throttled, request=request)
    with transaction.atomic():
        verified = django_otp.verify_token(actor, device.persistent_id, code) if code.isdigit() else None
        if verified is not None:
            verified.confirmed = True
            verified.save(update_fields=["confirmed"])
            AuthenticatorDevice.objects.filter(user=actor, confirmed=False).delete()
            record(
                "mfa.device.added",
                actor=actor,
                target=verified,
                data={"name": verified.name},
                request=request,
            )
            codes = _replace_recovery_codes(actor, request=request)
            if request is not None:
                django_otp.login(request, verified)
            return codes
    _refuse(
        actor,
        purpose="enroll",
        reason="wrong",
        request=request,
        message="That code is not right. Check the key you typed and the time on your phone.",
    )


def _replace_recovery_codes(user, *, request=None) -> list[str]:
    """New set of recovery codes (old ones stop working). Call inside transaction.atomic."""
    device, _ = RecoveryCodeDevice.objects.select_for_update().get_or_create(
        user=user, defaults={"name": "Recovery codes", "confirmed": True}
    )
    device.codes.all().delete()
    codes = set()
    while len(codes) < RECOVERY_CODE_COUNT:
        codes.add(new_recovery_code())
    codes = sorted(codes)
    RecoveryCode.objects.bulk_create(
        RecoveryCode(device=device, code_hash=hash_recovery_code(c)) for c in codes
    )
    device.throttle_reset(commit=True)
    record(
        "mfa.recovery_codes.generated", actor=user, target=device, data={"count": len(codes)}, request=request
    )
    return codes


def do_regenerate_recovery_codes(*, actor, otp_code: str, request=None) -> list[str]:
    """Replace the user's recovery codes, authorised by a fresh authenticator code."""
    with transaction.atomic():
        verify_step_up(actor, otp_code, purpose="mfa.recovery_codes.regenerate", request=request)
        return _replace_recovery_codes(actor, request=request)


def unused_recovery_codes(user, codes: list[str]) -> bool:
    """True when every code in `codes` is an unused recovery code of `user` (download check)."""
    device = RecoveryCodeDevice.objects.filter(user=user).first()
    if device is None or not codes or len(codes) > RECOVERY_CODE_COUNT:
        return False
    hashes = {hash_recovery_code(c) for c in codes}
    return device.codes.filter(code_hash__in=hashes, used_at=None).count() == len(hashes)


def do_verify_login(*, user, code: str, request=None):
    """Second login step: match `code` against the user's authenticator or recovery codes.

    Returns the device that accepted it. Raises ValidationError with a message otherwise.
    """
    code = _clean(code)
    devices = list(django_otp.devices_for_user(user))
    if not devices:
        _refuse(
            user,
            purpose="login",
            reason="no_device",
            request=request,
            message="Your account has no second factor; log in again.",
        )
    throttled = [m for m in (_throttle_message(d) for d in devices) if m]
    if len(throttled) == len(devices):
        _refuse(user, purpose="login", reason="throttled", message=throttled[0], request=request)
    with transaction.atomic():
        device = django_otp.match_token(user, code) if code else None
        if device is not None:
            kind = "recovery_code" if isinstance(device, RecoveryCodeDevice) else "authenticator"
            data = {"device": kind}
            if kind == "recovery_code":
                data["recovery_codes_left"] = device.remaining()
            record("mfa.login.verified", actor=user, target=device, data=data, request=request)
            return device
    reason, message = (
        "wrong",
        "That code is not right. Enter the current code from your app, or a recovery code.",
    )
    for d in devices:
        if isinstance(d, AuthenticatorDevice) and d.token_was_used(code):
            reason, message = "reused", "This code was already used. Wait for the next code from your app."
        elif isinstance(d, RecoveryCodeDevice) and d.code_was_used(code):
            reason, message = "recovery_code_used", "This recovery code was already used; each works once."
    _refuse(user, purpose="login", reason=reason, message=message, request=request)


def do_remove_authenticator(*, actor, code: str, request=None):
    """Remove the user's authenticator app(s), authorised by a code from it or a recovery code
    (for a lost phone). Returns the device that accepted the code; the caller then sends the
    user to enrollment. Raises ValidationError (with the failure audited) otherwise.
    """
    code = _clean(code)
    with transaction.atomic():
        device = django_otp.match_token(actor, code) if code else None
        if device is not None:
            names = list(AuthenticatorDevice.objects.filter(user=actor).values_list("name", flat=True))
            AuthenticatorDevice.objects.filter(user=actor).delete()
            kind = "recovery_code" if isinstance(device, RecoveryCodeDevice) else "authenticator"
            record(
                "mfa.device.removed",
                actor=actor,
                data={"removed": names, "verified_with": kind},
                request=request,
            )
            return device
    reason = "wrong"
    if any(d.token_was_used(code) for d in AuthenticatorDevice.objects.filter(user=actor, confirmed=True)):
        reason = "reused"
    _refuse(
        actor,
        purpose="mfa.device.remove",
        reason=reason,
        request=request,
        message="That code is not right or was already used. Use the app's current code or a recovery code.",
    )
