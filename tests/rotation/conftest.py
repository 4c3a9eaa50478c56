"""Rotation fixtures: the inventory's backends and people, secrets with a policy, and a test
strategy (`counting`) whose steps count their calls in the run state and can be told to fail."""

import json
import os
import secrets
import uuid
from dataclasses import dataclass

import boto3
import hvac
import pytest
import requests

from console.stack.servers import DemoProvider
from secrets_admin.rotation import strategies
from tests.inventory.conftest import (  # noqa: F401  (fixtures shared with the inventory tests)
    aws_backend,
    client_for,
    kv,
    kv_backend,
    people,
    person,
    put_kv,
    sm,
    totp_for,
)


@pytest.fixture
def counting(monkeypatch):
    """Register the `counting` strategy (tests/rotation/strategies.py) for this test."""
    monkeypatch.setitem(strategies.STRATEGIES, "counting", "tests.rotation.strategies.Counting")
    strategies._loaded.pop("counting", None)
    from tests.rotation.strategies import Counting

    Counting.failures.clear()
    yield Counting
    Counting.failures.clear()


@pytest.fixture
def make_secret(db):
    """make_secret(path, backend="vault", kind="api_key") -> an inventory Secret with the kind's
    default policy (the backend value, if any, is the test's business)."""
    from secrets_admin.inventory.models import RotationPolicy, Secret

    def make(path, *, backend="vault", kind="api_key", **fields):
        policy = RotationPolicy.objects.filter(kind=kind, is_default=True).first()
        return Secret.objects.create(
            backend=backend,
            path=path,
            name=path.rsplit("/", 1)[-1],
            kind=kind,
            rotation_policy=policy,
            **fields,
        )

    return make


@dataclass
class ProviderHandle:
    url: str
    key: str  # the hooks' HMAC key

    def login(self, api_key: str) -> int:
        """A real login at the provider's API: the HTTP status (200 accepted, 401 refused)."""
        answer = requests.get(
            f"{self.url}/api/whoami", headers={"Authorization": f"Bearer {api_key}"}, timeout=5
        )
        return answer.status_code


@pytest.fixture(scope="session")
def demo_provider(servers, tmp_path_factory):
    """The demo API provider as its own process, with its own read-only OpenBao token."""
    raw = hvac.Client(url=servers.openbao.url, token=servers.openbao.token)
    raw.sys.create_or_update_policy(
        "demo-provider", 'path "secret/data/*" { capabilities = ["read"] }\n'
        'path "secret/metadata/*" { capabilities = ["read"] }',
    )  # fmt: skip
    token = raw.auth.token.create(policies=["demo-provider"], ttl="24h")["auth"]["client_token"]
    key = secrets.token_hex(16)
    backends = {
        "vault": {"kind": "vault", "url": servers.openbao.url, "token": token},
        "aws": {"kind": "aws", "endpoint_url": servers.moto.url, "region": "us-east-1"},
    }
    env = {**os.environ, "DEMO_PROVIDER_HMAC_KEY": key, "DEMO_PROVIDER_BACKENDS": json.dumps(backends)}
    provider = DemoProvider(tmp_path_factory.mktemp("provider"), env).start()
    try:
        provider.wait_ready()
        yield ProviderHandle(url=provider.url, key=key)
    finally:
        provider.stop()


@pytest.fixture
def api_key_secret(make_secret, openbao, moto):
    """api_key_secret("vault"|"aws", value) -> an api_key Secret holding `value` in that backend."""
    raw_kv = hvac.Client(url=openbao.url, token=openbao.token)
    raw_sm = boto3.client("secretsmanager", endpoint_url=moto.url, region_name="us-east-1")

    def make(backend: str, value: str, folder: str = "bg"):
        name = f"{folder}-{uuid.uuid4().hex[:10]}/api-key"
        if backend == "vault":
            raw_kv.secrets.kv.v2.create_or_update_secret(
                path=name, secret={"value": value}, mount_point="secret"
            )
            return make_secret(f"secret/{name}", backend="vault")
        arn = raw_sm.create_secret(Name=name, SecretString=value)["ARN"]
        return make_secret(arn, backend="aws")

    return make


@pytest.fixture
def hook(demo_provider):
    """hook(secret_or_policy, key=None) -> a RotationHook at the demo provider (its key by default)."""
    from secrets_admin.rotation.services.hooks import do_set_hook

    def attach(target, key=None):
        return do_set_hook(
            target, actor="test", url=f"{demo_provider.url}/hook", key=key or demo_provider.key
        )

    return attach
