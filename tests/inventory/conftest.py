"""Inventory fixtures: backends scoped to a test's own KV folder / AWS name prefix, people in
every group, and one-time codes from a real TOTP device (pyotp as the independent client)."""

import os
import time
import uuid

import boto3
import hvac
import pyotp
import pytest
from django.contrib.auth.models import Group, User

from secrets_admin.roles import CTO, DEVELOPERS, MANAGERS, SECURITY_TEAM


@pytest.fixture
def kv(openbao):
    """A root hvac client on the test OpenBao (tests assert backend state directly)."""
    return hvac.Client(url=openbao.url, token=openbao.token)


@pytest.fixture
def kv_backend(settings, openbao, kv_prefix):
    """A backend named "kvtest" that walks only this test's KV folder. Returns the folder."""
    base = settings.SECRET_BACKENDS["vault"]
    settings.SECRET_BACKENDS = {
        **settings.SECRET_BACKENDS,
        "kvtest": {
            **base,
            "url": openbao.url,
            "token": openbao.token,
            "kv_prefix": kv_prefix,
            "engines": "kv",
        },
    }
    return kv_prefix


@pytest.fixture
def put_kv(kv, kv_prefix):
    """put_kv("payments/stripe", value, owner=..., ...) -> "secret/<prefix>/payments/stripe"."""

    def put(key, value, **custom_metadata):
        full = f"{kv_prefix}/{key}"
        kv.secrets.kv.v2.create_or_update_secret(path=full, secret={"value": value}, mount_point="secret")
        if custom_metadata:
            kv.secrets.kv.v2.update_metadata(path=full, custom_metadata=custom_metadata, mount_point="secret")
        return f"secret/{full}"

    return put


@pytest.fixture
def deny_kv(settings, kv, kv_backend):
    """deny_kv("team/denied"): "kvtest" now reads with a token that may list and read this
    test's folder but not that one secret (a real policy on the test OpenBao)."""

    def deny(key):
        folder = f"secret/metadata/{kv_backend}"
        kv.sys.create_or_update_policy(
            f"inv-{kv_backend}",
            f'path "{folder}/*" {{ capabilities = ["read", "list"] }}\n'
            f'path "{folder}/{key}" {{ capabilities = ["deny"] }}\n',
        )
        token = kv.auth.token.create(policies=[f"inv-{kv_backend}"], ttl="10m")["auth"]["client_token"]
        backends = settings.SECRET_BACKENDS
        settings.SECRET_BACKENDS = {**backends, "kvtest": {**backends["kvtest"], "token": token}}

    return deny


@pytest.fixture
def sm(moto):
    return boto3.client("secretsmanager", endpoint_url=moto.url, region_name="us-east-1")


@pytest.fixture
def aws_backend(settings, moto):
    """A backend named "awstest" that walks only secrets named "<prefix>/..."; returns the prefix."""
    prefix = f"inv-{uuid.uuid4().hex[:8]}"
    base = settings.SECRET_BACKENDS["aws"]
    settings.SECRET_BACKENDS = {
        **settings.SECRET_BACKENDS,
        "awstest": {**base, "endpoint_url": moto.url, "region": "us-east-1", "name_prefix": prefix + "/"},
    }
    return prefix


@pytest.fixture
def person(db):
    """person("carol", SECURITY_TEAM) -> a User in that group (no group when group is None)."""

    def make(username, group=None):
        user = User.objects.create_user(username, f"{username}@example.com", "a-long-test-password")
        if group:
            user.groups.add(Group.objects.get_or_create(name=group)[0])
        return user

    return make


@pytest.fixture
def people(person):
    return {
        "developers": person("alice", DEVELOPERS),
        "security-team": person("carol", SECURITY_TEAM),
        "cto": person("erin", CTO),
        "managers": person("frank", MANAGERS),
    }


@pytest.fixture
def client_for():
    """client_for(user) -> a logged-in test Client; OTP-verified when the user has a device
    (the second-factor middleware sends unverified sessions of device owners to the code page)."""
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY

    from secrets_admin.accounts.models import AuthenticatorDevice

    def login(user):
        client = Client()
        client.force_login(user)
        device = AuthenticatorDevice.objects.filter(user=user, confirmed=True).first()
        if device is not None:
            session = client.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session.save()
        return client

    return login


@pytest.fixture
def totp_for():
    """totp_for(user) -> pyotp.TOTP of a confirmed authenticator device created for the user."""
    from secrets_admin.accounts.models import AuthenticatorDevice

    def enrol(user):
        raw = os.urandom(20)
        device = AuthenticatorDevice(user=user, name="phone", confirmed=True)
        device.set_key(raw)
        device.save()
        return pyotp.TOTP(device.base32_key)

    return enrol


def code(totp, steps_ahead: int = 0) -> str:
    """A code for now (+ n time steps: the device accepts one step of drift, each step once)."""
    return totp.at(time.time() + 30 * steps_ahead)
