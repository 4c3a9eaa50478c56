"""Accounts fixtures: people per group, authenticators with known keys, verified sessions.

`person("carol", "security-team", device=True, verified=True)` returns (user, device, client).
"""

import secrets
import time

import pyotp
import pytest
from django.contrib.auth.models import Group, User
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
    return list(AuditEntry.objects.filter(**filters).order_by("sequence").values_list("action", flat=True))


def last_entry(action):
    return AuditEntry.objects.filter(action=action).order_by("-sequence").first()


@pytest.fixture
def person(db):
    def make(username, *groups, device=True, verified=True, superuser=False):
        user = User.objects.create_user(
            username=username,
            email=f"{username}@candlefish.example",
            password=PASSWORD,
            is_superuser=superuser,
            is_staff=superuser,
        )
        for name in groups:
            user.groups.add(Group.objects.get(name=name))
        dev = make_device(user) if device else None
        client = Client()
        client.force_login(user)
        if dev is not None and verified:
            session = client.session
            session[DEVICE_ID_SESSION_KEY] = dev.persistent_id
            session.save()
        return user, dev, client

    return make
