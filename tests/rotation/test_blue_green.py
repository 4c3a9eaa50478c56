"""Blue-green against real servers: OpenBao KV v2 and moto, the demo provider over its hook
(a real login with the new key; retire really revokes the old one)."""

import uuid
from datetime import timedelta

import boto3
import hvac
import pytest
from django.utils import timezone

from secrets_admin.alerts.models import Alert
from secrets_admin.backends import get_backend
from secrets_admin.rotation.models import RotationRun
from secrets_admin.rotation.services import engine, start_run
from secrets_admin.rotation.services.retire import retire_due

pytestmark = pytest.mark.django_db


def _versions(secret, openbao, moto) -> int:
    if secret.backend == "vault":
        raw = hvac.Client(url=openbao.url, token=openbao.token)
        meta = raw.secrets.kv.v2.read_secret_metadata(path=secret.path.split("/", 1)[1], mount_point="secret")
        return len(meta["data"]["versions"])
    sm = boto3.client("secretsmanager", endpoint_url=moto.url, region_name="us-east-1")
    return len(sm.describe_secret(SecretId=secret.path)["VersionIdsToStages"])


@pytest.mark.parametrize("backend", ["vault", "aws"])
def test_a_key_with_a_hook_rotates_with_an_overlap_then_the_old_one_is_revoked(
    backend, api_key_secret, hook, demo_provider, openbao, moto
):
    old = f"old-{uuid.uuid4().hex}"
    secret = api_key_secret(backend, old)
    hook(secret)
    before = _versions(secret, openbao, moto)
    run = start_run(secret, actor="test", reason="cli")
    assert engine.advance(run.pk)["state"] == "finished"
    run.refresh_from_db()

    store = get_backend(backend)
    new = store.read_current(secret.path)
    assert new != old and _versions(secret, openbao, moto) == before + 1
    assert run.new_version_id == store.current_version(secret.path)
    assert demo_provider.login(new) == 200  # the provider accepts the new key...
    assert demo_provider.login(old) == 200  # ...and the old one through the overlap
    assert run.retire_after > timezone.now() + timedelta(hours=23)

    RotationRun.objects.filter(pk=run.pk).update(retire_after=timezone.now())
    assert retire_due() == {"retired": 1, "failed": 0}
    assert demo_provider.login(old) == 401  # revoked at the provider
    assert demo_provider.login(new) == 200
    run.refresh_from_db()
    assert run.retired_at is not None and store.read_current(secret.path) == new


def test_a_key_without_a_hook_rotates_as_a_plain_value(api_key_secret):
    secret = api_key_secret("vault", "old-value")
    run = start_run(secret, actor="test", reason="cli")
    engine.advance(run.pk)
    run.refresh_from_db()
    assert run.state == "finished" and run.state_data["consumers_must_reread"] is True
    assert get_backend("vault").read_current(secret.path) != "old-value"


def test_a_provider_refusing_the_hook_stops_the_run_and_the_old_key_stays_current(
    api_key_secret, hook, openbao, moto
):
    secret = api_key_secret("vault", "old-value")
    hook(secret, key="not-the-providers-signing-key")
    before = _versions(secret, openbao, moto)
    run = start_run(secret, actor="test", reason="cli")
    engine.advance(run.pk)
    run.refresh_from_db()
    assert (run.state, run.step) == ("failed", "set")
    assert "answered 401 to set: bad signature" in run.error
    assert get_backend("vault").read_current(secret.path) == "old-value"
    assert _versions(secret, openbao, moto) == before  # nothing half-promoted
    assert Alert.objects.get(event="rotation.failed").facts["step"] == "set"


def test_a_policy_hook_serves_every_secret_of_the_policy(api_key_secret, hook, demo_provider):
    secret = api_key_secret("aws", "old-value")
    hook(secret.rotation_policy)
    run = start_run(secret, actor="test", reason="cli")
    engine.advance(run.pk)
    run.refresh_from_db()
    assert run.state == "finished" and run.state_data["hook"] is True
    assert demo_provider.login(get_backend("aws").read_current(secret.path)) == 200
