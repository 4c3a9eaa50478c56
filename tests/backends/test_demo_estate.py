"""seed_demo's estate, written into fresh OpenBao and moto servers of the test's own."""

import io
from datetime import UTC, datetime, timedelta

import boto3
import hvac
import pytest
from django.test import override_settings

from console.stack.servers import Moto, OpenBao, free_port
from secrets_admin import demo_estate
from secrets_admin.backends import get_backend
from secrets_admin.backends.base import ListingProblem, RemoteSecret


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


def test_the_demo_estate_is_realistic_idempotent_and_never_printed(fresh, pg_database, monkeypatch):
    from psycopg import connect

    bao, moto = fresh
    monkeypatch.setattr(demo_estate, "DEMO_DATABASE", pg_database.database)
    monkeypatch.setattr(demo_estate, "DEMO_STATIC_USER", pg_database.static_user)
    monkeypatch.setattr(demo_estate, "DEMO_USER_PREFIX", pg_database.user_prefix)
    printed = seed()
    found = inventory()
    items = found["vault"] + found["aws"]
    assert not [item for item in items if isinstance(item, ListingProblem)]
    assert len(items) >= 50
    kinds = [item.kind for item in items]
    assert {"api_key", "password", "certificate", "database"} <= set(kinds)

    kv = [item for item in found["vault"] if item.path.startswith("secret/")]
    assert len(kv) == len(demo_estate.KV_SECRETS) + len(demo_estate.KV_ODD)
    assert {item.metadata.get("owner") for item in kv} >= {"payments", "identity", "platform", "data"}
    assert {item.metadata.get("environment") for item in kv} >= {"production", "staging", "development"}
    assert max(len(item.versions) for item in kv) >= 3
    assert [item.path for item in kv if item.details.get("problems")] == [
        "secret/legacy/billing-ftp-password"
    ]

    now = datetime.now(UTC)
    leaf_certs = [i for i in found["vault"] if i.kind == "certificate" and not i.details["is_ca"]]
    assert len(leaf_certs) == len(demo_estate.CERTIFICATES)
    assert any(c.expires_at < now + timedelta(days=7) for c in leaf_certs)
    assert any(now + timedelta(days=7) < c.expires_at < now + timedelta(days=30) for c in leaf_certs)
    assert any(c.expires_at > now + timedelta(days=90) for c in leaf_certs)

    database = {item.path: item for item in found["vault"] if item.kind == "database"}
    assert set(database) == {"database/config/demo-postgres", "database/roles/app-readonly",
                             "database/static-roles/app-static"}  # fmt: skip
    assert database["database/roles/app-readonly"].details["outstanding_leases"] == 2
    with connect(pg_database.target.dsn("postgres")) as conn:
        logins = conn.execute(
            "SELECT count(*) FROM pg_roles WHERE rolname LIKE %s", [pg_database.user_prefix + "%"]
        )
        assert logins.fetchone()[0] >= 2

    aws = found["aws"]
    assert len(aws) == len(demo_estate.AWS_SECRETS)
    assert any("AWSPENDING" in v.stages for item in aws for v in item.versions)
    assert all(item.metadata.keys() == {"owner", "purpose", "environment", "kind"} for item in aws)

    # Values went only to the servers: read a few back directly; none was printed.
    root = hvac.Client(url=bao.url, token=bao.token)
    sm = boto3.client("secretsmanager", endpoint_url=moto.url, region_name="us-east-1")
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
    assert len(second["vault"]) == len(found["vault"]) and len(second["aws"]) == len(aws)
    versions = {
        i.path: len(i.versions) for i in second["vault"] + second["aws"] if isinstance(i, RemoteSecret)
    }
    assert versions == {i.path: len(i.versions) for i in items}
    root.sys.revoke_prefix("database/creds/app-readonly")


def test_without_postgresql_the_database_part_is_skipped_with_a_reason(fresh, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"postgres://postgres@127.0.0.1:{free_port()}/nothing")
    printed = seed()
    assert "skipping the database engine: no PostgreSQL at 127.0.0.1" in printed
    found = inventory()
    assert not [item for item in found["vault"] if item.kind == "database"]
    assert len(found["aws"]) == len(demo_estate.AWS_SECRETS), "the rest of the estate is still written"
