"""The TOTP implementation: RFC 6238 known answers, an independent client, seeds encrypted at rest."""

import base64
import binascii

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django_otp.oath import TOTP

from secrets_admin.accounts.models import AuthenticatorDevice
from tests.accounts.factories import code_at_step, make_device, totp_for

RFC_KEY = b"12345678901234567890"  # RFC 6238 appendix B, SHA1
RFC_VECTORS = [
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
    (20000000000, "65353130"),
]


@pytest.mark.parametrize(("when", "expected"), RFC_VECTORS)
def test_it_matches_rfc_6238_sha1_vectors_through_an_encrypted_device(db, django_user_model, when, expected):
    user = django_user_model.objects.create_user("rfc")
    device = make_device(user, key=RFC_KEY)
    device = AuthenticatorDevice.objects.get(pk=device.pk)  # the seed makes the round trip via the DB
    totp = TOTP(device.bin_key, step=30, t0=0, digits=8)
    totp.time = when
    assert f"{totp.token():08d}" == expected


def test_a_pyotp_code_is_accepted_once(db, django_user_model):
    user = django_user_model.objects.create_user("pyotp")
    device = make_device(user)
    code = totp_for(device).now()
    assert device.verify_token(code) is True
    device.refresh_from_db()
    assert device.verify_token(code) is False
    assert device.token_was_used(code) is True


def test_the_seed_column_holds_neither_hex_nor_base32_of_the_seed(db, django_user_model):
    user = django_user_model.objects.create_user("cipher")
    device = make_device(user)
    seed = device.bin_key
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_authenticatordevice WHERE id = %s", [device.pk])
        row = " ".join(str(v) for v in cursor.fetchone())
    for form in (
        binascii.hexlify(seed).decode(),
        binascii.hexlify(seed).decode().upper(),
        base64.b32encode(seed).decode().rstrip("="),
        base64.b64encode(seed).decode(),
    ):
        assert form not in row
    assert row.count("gAAAAA") == 1  # a Fernet token is what is stored


def test_rotate_field_keys_re_encrypts_with_the_new_key_and_codes_keep_working(
    db, django_user_model, settings
):
    user = django_user_model.objects.create_user("rotate")
    device = make_device(user)
    seed, old_token = device.bin_key, device.encrypted_key
    new_key = Fernet.generate_key().decode()
    with override_settings(FIELD_ENCRYPTION_KEYS=[new_key, *settings.FIELD_ENCRYPTION_KEYS]):
        call_command("rotate_field_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115
    device.refresh_from_db()
    assert device.encrypted_key != old_token
    with override_settings(FIELD_ENCRYPTION_KEYS=[new_key]):  # the old key is gone now
        assert device.bin_key == seed
        assert device.verify_token(code_at_step(device, 0)) is True
        stale = AuthenticatorDevice(encrypted_key=old_token)
        with pytest.raises(ImproperlyConfigured):
            stale.bin_key  # noqa: B018


def test_a_malformed_field_key_is_a_system_check_error(settings):
    from secrets_admin.accounts.checks import field_keys

    assert field_keys() == []
    settings.FIELD_ENCRYPTION_KEYS = ["not-a-fernet-key"]
    assert [e.id for e in field_keys()] == ["accounts.E001"]
    settings.FIELD_ENCRYPTION_KEYS = []
    assert [e.id for e in field_keys()] == ["accounts.E001"]
