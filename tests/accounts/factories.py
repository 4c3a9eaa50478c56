"""Helpers other test packages may import: authenticators with known keys, codes computed by an
independent client (pyotp), and test clients whose session is OTP-verified.

    user, device = ..., make_device(user)
    client = verified_client(user, device)          # logged in and past the second factor
    code_at_step(device, 0)                          # a fresh code for a step-up form
    code_at_step(device, 1)                          # the next one (each code works once)
"""

import secrets
import time

import pyotp
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY

from secrets_admin.accounts.models import AuthenticatorDevice
from secrets_admin.audit.models import AuditEntry

PASSWORD = "correct-horse-battery-staple"


def make_device(user, *, confirmed=True, key: bytes | None = None) -> AuthenticatorDevice:
    device = AuthenticatorDevice(user=user, name="Test app", confirmed=confirmed)
    device.set_key(key or secrets.token_bytes(20))
    device.save()
    return device


def totp_for(device) -> pyotp.TOTP:
    """An independent client (pyotp) holding the same key the user typed in."""
    return pyotp.TOTP(device.base32_key)


def code_at_step(device, offset: int) -> str:
    """The code for the current time step + offset (-1, 0, +1 are inside the tolerance)."""
    return totp_for(device).at(time.time(), counter_offset=offset)


def actions(**filters) -> list[str]:
    return list(AuditEntry.objects.filter(**filters).order_by("id").values_list("action", flat=True))


def last_entry(action):
    return AuditEntry.objects.filter(action=action).order_by("-id").first()


def verified_client(user, device=None) -> Client:
    """A test client logged in as `user`, its session verified with `device` (made if None)."""
    device = device or make_device(user)
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client
