"""Step-up: a fresh one-time code from the user's authenticator, bound to one action.

    with transaction.atomic():
        verify_step_up(actor, form.cleaned_data["otp_code"], purpose=f"breakglass.approve:{digest}")
        ...the change and its audit entry...

The device row is locked (`django_otp.verify_token` loads it FOR UPDATE) until the caller's
transaction ends, the code's time step is stored in `UsedCode` (unique per device and step) with
the purpose, and django-otp's `last_t` refuses any code at or below a used step: a code works
once, for one purpose. Recovery codes do not count as step-up (they are for logging in).

Failures roll back with the caller's transaction, so the failure is noted in memory and written
(throttle counter + `mfa.code.failed` audit entry) by `flush_step_up_failures()` after it —
`StepUpFailureMiddleware` calls it at the end of every request.
"""

import contextvars
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime

import django_otp
from django import forms
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from secrets_admin.accounts.models import AuthenticatorDevice, UsedCode

_CODE = re.compile(r"^\d{6}$")


class StepUpFailed(ValidationError):
    """A step-up code was refused; the message says what to do. `reason` is a stable code."""

    def __init__(self, message: str, *, reason: str):
        super().__init__(message, code=reason)
        self.reason = reason


@dataclass
class _Failure:
    user_id: int
    purpose: str
    reason: str
    at: datetime
    device_ids: list = field(default_factory=list)  # devices whose throttle must count this failure
    request: object = None


_request_failures: contextvars.ContextVar = contextvars.ContextVar("step_up_failures", default=None)
_current_request: contextvars.ContextVar = contextvars.ContextVar("step_up_request", default=None)
_local = threading.local()


def _pending() -> list:
    bucket = _request_failures.get()
    if bucket is None:
        bucket = getattr(_local, "failures", None)
        if bucket is None:
            bucket = _local.failures = []
    return bucket


def begin_request(request) -> tuple:
    return _request_failures.set([]), _current_request.set(request)


def end_request(tokens: tuple) -> None:
    failures, current = tokens
    try:
        flush_step_up_failures()
    finally:
        _request_failures.reset(failures)
        _current_request.reset(current)


def _fail(user, purpose, reason, message, *, devices=(), request=None):
    request = request if request is not None else _current_request.get()  # its IP goes in the entry
    _pending().append(
        _Failure(user.pk, purpose, reason, timezone.now(), [d.pk for d in devices], request=request)
    )
    raise StepUpFailed(message, reason=reason)


def verify_step_up(user, code: str, *, purpose: str, request=None) -> UsedCode:
    """Accept `code` once, for `purpose`, or raise StepUpFailed. Call inside transaction.atomic.
    Returns the `UsedCode` row (the proof a caller may keep, e.g. an approval's)."""
    if not connection.in_atomic_block:
        raise RuntimeError("verify_step_up must run inside the caller's transaction.atomic()")
    if not purpose or len(purpose) > 255:
        raise ValueError("purpose must be a non-empty string of at most 255 characters")
    devices = list(AuthenticatorDevice.objects.filter(user=user, confirmed=True).order_by("pk"))
    if not devices:
        url = reverse("accounts:mfa")
        _fail(user, purpose, "no_device", f"Set up an authenticator app first ({url}), then enter its code.")
    code = "".join(str(code or "").split())
    if not _CODE.match(code):
        _fail(user, purpose, "malformed", "Enter the 6-digit code from your authenticator app.")
    for device in devices:
        allowed, info = device.verify_is_allowed()
        if not allowed:
            wait = max(1, int((info["locked_until"] - timezone.now()).total_seconds()) + 1)
            _fail(
                user,
                purpose,
                "throttled",
                f"Too many wrong codes. Wait {wait} second{'s' if wait != 1 else ''} and try again.",
            )
        verified = django_otp.verify_token(user, device.persistent_id, code)
        if verified is not None:
            try:
                with transaction.atomic():
                    used = UsedCode.objects.create(
                        device=verified, step=verified.verified_step, purpose=purpose
                    )
            except IntegrityError:
                _fail(user, purpose, "reused", "This code was already used. Wait for the next code.")
            from secrets_admin.audit.services import record

            record(
                "mfa.stepup.verified", actor=user, target=verified, data={"purpose": purpose}, request=request
            )
            return used
    for device in devices:  # read last_t as it is now, after waiting on the row lock
        device.refresh_from_db(fields=["last_t", "drift"])
    if any(device.token_was_used(code) for device in devices):
        _fail(user, purpose, "reused", "This code was already used. Wait for the next code.", devices=devices)
    _fail(user, purpose, "wrong", "That code is not right. Check the time on your phone.", devices=devices)


def flush_step_up_failures() -> int:
    """Write pending failures (throttle + audit) in their own transaction. Returns how many."""
    from secrets_admin.audit.services import record

    bucket = _pending()
    written = 0
    while bucket:
        failure = bucket.pop(0)
        with transaction.atomic():
            for device in AuthenticatorDevice.objects.select_for_update().filter(pk__in=failure.device_ids):
                stamp = device.throttling_failure_timestamp
                if stamp is None or stamp < failure.at:  # the caller rolled our increment back
                    device.throttle_increment(commit=True)
            from django.contrib.auth import get_user_model

            user = get_user_model().objects.filter(pk=failure.user_id).first()
            record(
                "mfa.code.failed",
                actor=user,
                data={"purpose": failure.purpose, "reason": failure.reason, "step_up": True},
                request=failure.request,
            )
        written += 1
    return written


CODE_LABEL = "Code from your authenticator app"


class OneTimeCodeInput(forms.TextInput):
    """The code box, the same on every form: label, autocomplete="one-time-code" (phones offer the
    code from an SMS or the app), a numeric keypad, and a refused code is never shown again."""

    def __init__(self, attrs=None):
        defaults = {
            "autocomplete": "one-time-code",
            "inputmode": "numeric",
            "class": "form-control cf-code",
            "spellcheck": "false",
            "autocapitalize": "none",
        }
        super().__init__({**defaults, **(attrs or {})})

    def format_value(self, value):
        return None


class StepUpField(forms.CharField):
    """The one-time code field sensitive forms include (verified by the service, not the form)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", CODE_LABEL)
        kwargs.setdefault("max_length", 12)
        kwargs.setdefault("min_length", 6)
        kwargs.setdefault("help_text", "A fresh 6-digit code: each code can authorise one action.")
        kwargs.setdefault("widget", OneTimeCodeInput())
        super().__init__(**kwargs)


class StepUpForm(forms.Form):
    """Base form with the `otp_code` field, always last (right above the submit button); pass
    cleaned_data["otp_code"] to the service. Templates show `accounts/_needs_authenticator.html`
    above it, which tells a person without an authenticator to set one up first."""

    otp_code = StepUpField()
    needs_authenticator = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["otp_code"] = self.fields.pop("otp_code")
