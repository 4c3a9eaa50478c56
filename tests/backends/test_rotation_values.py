"""Rotation values in KV v2 and AWS, against the real OpenBao and moto: every helper is
idempotent by run token (re-running any of them makes one new version, never two), the old
value stays until retired, and a secret changed meanwhile is refused rather than overwritten."""

import uuid

import boto3
import hvac
import pytest

from secrets_admin.backends import BackendError, get_backend
from secrets_admin.backends.vault_values import PENDING_FOLDER


class Kv:
    name = "vault"

    def __init__(self, openbao):
        self.raw = hvac.Client(url=openbao.url, token=openbao.token)

    def make(self, value):
        key = f"rot-{uuid.uuid4().hex[:10]}/api-key"
        self.raw.secrets.kv.v2.create_or_update_secret(
            path=key, secret={"value": value}, mount_point="secret"
        )
        return f"secret/{key}"

    def versions(self, path):
        meta = self.raw.secrets.kv.v2.read_secret_metadata(path=path.split("/", 1)[1], mount_point="secret")
        return meta["data"]

    def count(self, path):
        return len(self.versions(path)["versions"])

    def change(self, path, value):
        self.raw.secrets.kv.v2.create_or_update_secret(
            path=path.split("/", 1)[1], secret={"value": value}, mount_point="secret"
        )


class Aws:
    name = "aws"

    def __init__(self, moto):
        self.raw = boto3.client("secretsmanager", endpoint_url=moto.url, region_name="us-east-1")

    def make(self, value):
        return self.raw.create_secret(Name=f"rot-{uuid.uuid4().hex[:10]}", SecretString=value)["ARN"]

    def stages(self, arn):
        return self.raw.describe_secret(SecretId=arn)["VersionIdsToStages"]

    def count(self, arn):
        return len(self.stages(arn))

    def change(self, arn, value):
        self.raw.put_secret_value(SecretId=arn, SecretString=value)


@pytest.fixture(params=["kv", "aws"])
def store(request, openbao, moto):
    return Kv(openbao) if request.param == "kv" else Aws(moto)


def _rotate(backend, path, token, value):
    base = backend.current_version(path)
    backend.write_pending(path, value, token=token, cas=base)
    return base


def test_a_rotation_adds_exactly_one_version_however_often_each_helper_runs(store):
    backend, token = get_backend(store.name), uuid.uuid4().hex
    path = store.make("old-value")
    before = store.count(path)
    base = _rotate(backend, path, token, "new-value")
    _rotate(backend, path, token, "another-value-from-a-rerun")  # a crash re-ran create
    assert backend.read_pending(path, token=token) == "new-value"
    assert backend.read_current(path) == "old-value"  # readers still get the old one
    version = backend.promote(path, token=token)
    assert backend.promote(path, token=token) == version  # a re-run of finish
    assert backend.read_current(path) == "new-value"
    assert backend.current_version(path) == version != base
    assert store.count(path) == before + 1
    _rotate(backend, path, token, "late-rerun")  # even a create re-run after finish is refused or a no-op
    if isinstance(store, Kv):
        data = store.versions(path)
        assert data["custom_metadata"]["candlefish-run"] == token
        assert data["custom_metadata"]["candlefish-deprecated"] == base
        assert not data["versions"][base]["destroyed"]  # the old value lives through the overlap
    else:
        stages = store.stages(path)
        assert stages[token] == ["AWSCURRENT"] and stages[base] == ["AWSPREVIOUS"]  # AWSPENDING removed


def test_retire_removes_the_old_version_after_the_overlap(store):
    backend, token = get_backend(store.name), uuid.uuid4().hex
    path = store.make("old-value")
    base = _rotate(backend, path, token, "new-value")
    backend.promote(path, token=token)
    backend.retire(path, base)
    backend.retire(path, base)  # idempotent
    assert backend.read_current(path) == "new-value"
    if isinstance(store, Kv):
        data = store.versions(path)
        assert data["versions"][base]["destroyed"] and "candlefish-deprecated" not in data["custom_metadata"]
    else:
        assert store.stages(path).get(base, []) == []


def test_a_secret_changed_during_the_run_is_not_overwritten(store):
    backend, token = get_backend(store.name), uuid.uuid4().hex
    path = store.make("old-value")
    _rotate(backend, path, token, "new-value")
    store.change(path, "someone-else")
    if isinstance(store, Kv):
        with pytest.raises(BackendError, match="changed since the rotation began") as caught:
            backend.promote(path, token=token)
        assert caught.value.permanent and "new-value" not in str(caught.value)
        assert backend.read_current(path) == "someone-else"
    else:
        # AWS has no check-and-set: AWSCURRENT moves from whoever holds it, the run's version wins.
        backend.promote(path, token=token)
        assert backend.read_current(path) == "new-value"


def test_pending_of_another_run_is_not_read_or_promoted(store):
    backend = get_backend(store.name)
    path = store.make("old-value")
    _rotate(backend, path, "a" * 32, "new-value")
    with pytest.raises(BackendError, match="no pending value of this run|no version of this run"):
        backend.read_pending(path, token="b" * 32)
    with pytest.raises(BackendError):
        backend.promote(path, token="b" * 32)
    assert backend.read_current(path) == "old-value"


def test_the_inventory_walk_skips_staged_values(openbao, settings):
    store = Kv(openbao)
    path = store.make("old-value")
    backend = get_backend("vault")
    _rotate(backend, path, uuid.uuid4().hex, "new-value")
    found = [item.path for item in backend.iter_secrets() if hasattr(item, "path")]
    assert path in found and not any(f"/{PENDING_FOLDER}/" in p for p in found)
