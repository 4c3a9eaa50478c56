"""seed_demo's estate, written into fresh OpenBao and moto servers of the test's own."""

import io
from datetime import UTC, datetime, timedelta

import boto3
import hvac
import pytest
from django.test import override_settings

from console.stack.servers import Moto, OpenBao
from secrets_admin import demo_estate, demo_targets
from secrets_admin.backends import get_backend
from secrets_admin.backends.base import ListingProblem, RemoteSecret
from secrets_admin.backends.postgres_target import get_target


@pytest.fixture
def fresh(tmp_path):
    """Empty OpenBao (bootstrapped like `make run` does) and moto; settings point at them."""
    from django.conf import settings

    bao = OpenBao(tmp_path / "bao", token="estate-root").start()
    moto = Moto(tmp_path / "moto").start()
    try:
        bao.wait_ready()
        moto.wait_ready()
        backends = {
            "vault": {**settings.SECRET_BACKENDS["vault"], "url": bao.url, "token": bao.token},
            "aws": {**settings.SECRET_BACKENDS["aws"], "endpoint_url": moto.url, "region": "us-east-1"},
        }
        with override_settings(SECRET_BACKENDS=backends):
            get_backend("vault").bootstrap()
            yield bao, moto
    finally:
        bao.stop()
        moto.stop()


def seed() -> str:
    out = io.StringIO()
    demo_estate.seed_estate(out)
    return out.getvalue()


def inventory() -> dict[str, list]:
    return {name: list(get_backend(name).iter_secrets()) for name in ("vault", "aws")}


@pytest.fixture
def demo_target(pg_target, settings, monkeypatch):
    """The session's scram PostgreSQL named as make run names its own, with the superuser
    password handed to seed_demo the way make run hands it."""
    settings.ROTATION_TARGETS = {
        demo_targets.DEMO_TARGET: {
            "host": pg_target.host,
            "port": pg_target.port,
            "database": "candlefish_target",
        }
    }
    monkeypatch.setenv("DEMO_TARGET_PASSWORD", pg_target.password)
    return get_target(demo_targets.DEMO_TARGET)


def test_the_demo_estate_is_realistic_idempotent_and_never_printed(fresh, demo_target, pg_target):
    from psycopg import connect

    bao, moto = fresh
    printed = seed()
    found = inventory()
    items = found["vault"] + found["aws"]
    assert not [item for item in items if isinstance(item, ListingProblem)]
    assert len(items) >= 50
    kinds = [item.kind for item in items]
    assert {"api_key", "password", "certificate", "database"} <= set(kinds)

    kv = [item for item in found["vault"] if item.path.startswith("secret/") and "target" not in item.tags]
    assert len(kv) == len(demo_estate.KV_SECRETS) + len(demo_estate.KV_ODD)
    assert {item.metadata.get("owner") for item in kv} >= {"payments", "identity", "platform", "data"}
    assert {item.metadata.get("environment") for item in kv} >= {"production", "staging", "development"}
    assert max(len(item.versions) for item in kv) >= 3
    assert [item.path for item in kv if item.details.get("problems")] == [
        "secret/legacy/billing-ftp-password"
    ]

    now = datetime.now(UTC)
    leaf_certs = [i for i in found["vault"] if i.kind == "certificate" and not i.details["is_ca"]]
    assert len(leaf_certs) == len(demo_estate.CERTIFICATES) + len(demo_targets.RENEWABLE_CERTIFICATES)
    assert any(c.expires_at < now + timedelta(days=7) for c in leaf_certs)
    assert any(now + timedelta(days=7) < c.expires_at < now + timedelta(days=30) for c in leaf_certs)
    assert any(c.expires_at > now + timedelta(days=90) for c in leaf_certs)
    renewable = next(c for c in leaf_certs if c.name == demo_targets.RENEWABLE_CERTIFICATES[0][0])
    assert now + timedelta(days=19) < renewable.expires_at < now + timedelta(days=21)
    assert renewable.created_at < now - timedelta(days=69), "backdated: it lives longer than its lead"

    database = {item.path: item for item in found["vault"] if item.kind == "database"}
    assert set(database) == {"database/config/demo-postgres", "database/roles/app-readonly",
                             "database/static-roles/app-static"}  # fmt: skip
    assert database["database/roles/app-readonly"].details["outstanding_leases"] == 2
    with connect(pg_target.dsn("postgres")) as conn:
        logins = conn.execute(
            "SELECT count(*) FROM pg_roles WHERE rolname LIKE %s AND rolvaliduntil > now()",
            [demo_targets.USER_PREFIX + "%"],
        )
        assert logins.fetchone()[0] >= 2

    # The rolling demo passwords: each backend value logs in as its login on the target.
    rolling = {item.path.removeprefix("secret/"): item for item in found["vault"] + found["aws"]
               if item.tags.get("target") == demo_targets.DEMO_TARGET}  # fmt: skip
    assert len(rolling) == len(demo_targets.ROLLING)
    root = hvac.Client(url=bao.url, token=bao.token)
    sm = boto3.client("secretsmanager", endpoint_url=moto.url, region_name="us-east-1")
    for kind, path, login, _team, _purpose in demo_targets.ROLLING:
        if kind == "vault":
            value = root.secrets.kv.v2.read_secret_version(path, raise_on_deleted_version=True)["data"][
                "data"
            ]
            value = value["value"]
        else:
            value = sm.get_secret_value(SecretId=path, VersionStage="AWSCURRENT")["SecretString"]
        item = next(i for i in rolling.values() if i.name.endswith(path) or i.path.endswith(path))
        assert item.tags["target_login"] == login and item.kind == "password"
        assert demo_target.login_works(login, value) and value not in printed

    aws = [item for item in found["aws"] if item.tags.get("target") != demo_targets.DEMO_TARGET]
    assert len(aws) == len(demo_estate.AWS_SECRETS)
    assert any("AWSPENDING" in v.stages for item in aws for v in item.versions)
    assert all(item.metadata.keys() == {"owner", "purpose", "environment", "kind"} for item in aws)

    # Values went only to the servers: read a few back directly; none was printed.
    values = [root.secrets.kv.v2.read_secret_version(item.path.removeprefix("secret/"),
                                                      raise_on_deleted_version=True)["data"]["data"]["value"]
              for item in kv[:5]]  # fmt: skip
    values += [
        sm.get_secret_value(SecretId=item.path, VersionStage="AWSCURRENT")["SecretString"] for item in aws[:5]
    ]
    assert all(len(value) >= 32 for value in values)
    assert not any(value in printed for value in values)

    again = seed()
    assert "0 new KV secrets" in again and "0 new certificates" in again and "0 new AWS secrets" in again
    second = inventory()
    assert len(second["vault"]) == len(found["vault"]) and len(second["aws"]) == len(found["aws"])
    versions = {
        i.path: len(i.versions) for i in second["vault"] + second["aws"] if isinstance(i, RemoteSecret)
    }
    assert versions == {i.path: len(i.versions) for i in items}
    root.sys.revoke_prefix("database/creds/app-readonly")


def test_without_a_rotation_target_the_database_part_is_skipped_with_a_reason(fresh, settings, monkeypatch):
    settings.ROTATION_TARGETS = {}
    monkeypatch.delenv("DEMO_TARGET_PASSWORD", raising=False)
    printed = seed()
    assert "skipping the rotation target: no embedded PostgreSQL" in printed
    found = inventory()
    assert not [item for item in found["vault"] if item.kind == "database"]
    assert len(found["aws"]) == len(demo_estate.AWS_SECRETS), "the rest of the estate is still written"
