"""Sync against the real OpenBao KV and moto: discovery, lineage, idempotency, vanished
secrets, per-secret problems, a backend that is down."""

import pytest
from django.utils import timezone

from console.stack.servers import free_port
from secrets_admin.audit.models import AuditEntry
from secrets_admin.inventory.models import Secret, SecretVersion, SyncRun
from secrets_admin.inventory.services.sync import sync_backend

pytestmark = pytest.mark.django_db


def test_it_discovers_kv_secrets_with_metadata_and_lineage(kv_backend, put_kv, kv, kv_prefix):
    path = put_kv(
        "payments/stripe",
        "v1",
        owner="payments",
        purpose="charge cards",
        environment="production",
        kind="api_key",
        team_channel="#payments",
    )
    kv.secrets.kv.v2.create_or_update_secret(path=f"{kv_prefix}/payments/stripe", secret={"value": "v2"})
    other = put_kv("ci/token", "x")

    run = sync_backend("kvtest", actor="test")

    assert (run.state, run.seen, run.created, run.changed, run.vanished, run.error_count) == (
        SyncRun.State.SUCCEEDED,
        2,
        2,
        0,
        0,
        0,
    )
    secret = Secret.objects.get(backend="kvtest", path=path)
    assert (secret.kind, secret.owner_team, secret.purpose, secret.environment) == (
        "api_key",
        "payments",
        "charge cards",
        "production",
    )
    assert secret.tags == {"team_channel": "#payments"}
    assert secret.rotation_policy.name == "api-key-90-days"
    assert secret.next_due == secret.last_rotated + timezone.timedelta(days=90)
    assert secret.status == "ok" and secret.last_seen is not None
    versions = list(secret.versions.order_by("version_id").values_list("version_id", "state", "created_by"))
    assert versions == [("1", "previous", "import"), ("2", "current", "import")]
    generic = Secret.objects.get(backend="kvtest", path=other)
    assert generic.kind == "generic" and generic.rotation_policy is None and generic.status == "ok"
    entries = AuditEntry.objects.filter(action__startswith="inventory.")
    assert sorted(entries.values_list("action", flat=True)) == [
        "inventory.secret.discovered",
        "inventory.secret.discovered",
        "inventory.sync.finished",
    ]


def test_a_second_sync_changes_nothing_and_duplicates_no_lineage(kv_backend, put_kv):
    put_kv("a", "1", owner="team-a")
    put_kv("b", "2")
    sync_backend("kvtest", actor="test")
    before = list(Secret.objects.filter(backend="kvtest").values())
    versions_before = SecretVersion.objects.count()
    audit_before = AuditEntry.objects.count()

    run = sync_backend("kvtest", actor="test")

    assert (run.state, run.seen, run.created, run.changed, run.vanished) == ("succeeded", 2, 0, 0, 0)
    after = list(Secret.objects.filter(backend="kvtest").values())
    for row in before + after:
        row.pop("last_seen")
    assert after == before
    assert SecretVersion.objects.count() == versions_before
    assert AuditEntry.objects.count() == audit_before + 1  # only the run's own entry


def test_a_new_version_is_appended_and_counted_as_a_change(kv_backend, put_kv, kv, kv_prefix):
    path = put_kv("db/password", "one")
    sync_backend("kvtest", actor="test")
    kv.secrets.kv.v2.create_or_update_secret(path=f"{kv_prefix}/db/password", secret={"value": "two"})

    run = sync_backend("kvtest", actor="test")

    assert (run.created, run.changed) == (0, 1)
    secret = Secret.objects.get(path=path)
    assert list(secret.versions.order_by("version_id").values_list("version_id", "state")) == [
        ("1", "previous"),
        ("2", "current"),
    ]


def test_a_vanished_secret_is_marked_missing_and_keeps_its_history(kv_backend, put_kv, kv, kv_prefix):
    path = put_kv("old/key", "gone soon", owner="legacy")
    put_kv("stays", "here")
    sync_backend("kvtest", actor="test")
    kv.secrets.kv.v2.delete_metadata_and_all_versions(path=f"{kv_prefix}/old/key")

    run = sync_backend("kvtest", actor="test")

    assert (run.vanished, run.state) == (1, "succeeded")
    secret = Secret.objects.get(path=path)
    assert secret.status == "missing" and secret.missing_since is not None
    assert secret.owner_team == "legacy" and secret.versions.count() == 1
    assert (
        AuditEntry.objects.filter(action="inventory.secret.vanished", target_id=str(secret.pk)).count() == 1
    )
    assert Secret.objects.get(path__endswith="/stays").status == "ok"
    # It comes back: no longer missing, and the lineage continues.
    kv.secrets.kv.v2.create_or_update_secret(path=f"{kv_prefix}/old/key", secret={"value": "back"})
    sync_backend("kvtest", actor="test")
    secret.refresh_from_db()
    assert secret.status == "ok" and secret.missing_since is None


def test_a_secret_the_token_cannot_read_is_recorded_and_the_rest_sync(put_kv, deny_kv):
    denied = put_kv("team/denied", "nope")
    put_kv("team/allowed", "yes")
    sync_backend("kvtest", actor="test")  # first with the root token: both known
    deny_kv("team/denied")
    put_kv("team/new", "fresh")

    run = sync_backend("kvtest", actor="test")

    assert run.state == "partial" and run.error_count == 1 and run.created == 1
    assert run.errors[0]["path"] == denied and "denied" in run.errors[0]["error"].lower()
    secret = Secret.objects.get(path=denied)
    assert secret.status == "needs_attention" and "denied" in secret.problem.lower()
    assert secret.missing_since is None and secret.versions.count() == 1  # nothing lost
    assert Secret.objects.get(path__endswith="/team/new").status == "ok"


def test_malformed_metadata_is_reported_not_fatal(kv_backend, put_kv):
    path = put_kv("weird", "x", environment="prod", owner="ops")

    run = sync_backend("kvtest", actor="test")

    secret = Secret.objects.get(path=path)
    assert secret.status == "needs_attention" and "'prod'" in secret.problem
    assert secret.owner_team == "ops" and secret.environment == ""
    assert run.state == "partial" and run.errors == [{"path": path, "error": secret.problem}]


def test_a_backend_that_is_down_fails_the_run_and_loses_nothing(settings, kv_backend, put_kv):
    path = put_kv("kept", "x", owner="keepers")
    sync_backend("kvtest", actor="test")
    before = list(Secret.objects.filter(backend="kvtest").values())
    settings.SECRET_BACKENDS = {
        **settings.SECRET_BACKENDS,
        "kvtest": {
            **settings.SECRET_BACKENDS["kvtest"],
            "url": f"http://127.0.0.1:{free_port()}",
            "timeout": 1,
        },
    }

    run = sync_backend("kvtest", actor="test")

    assert run.state == "failed" and run.finished_at is not None
    assert "kvtest" in run.error and run.vanished == 0
    assert list(Secret.objects.filter(backend="kvtest").values()) == before
    assert Secret.objects.get(path=path).status == "ok"
    entry = AuditEntry.objects.filter(action="inventory.sync.finished").latest("id")
    assert entry.data["state"] == "failed"


def test_an_unknown_backend_fails_the_run_with_a_clear_message():
    run = sync_backend("nope", actor="test")
    assert run.state == "failed" and "no backend named 'nope'" in run.error


def test_aws_secrets_sync_with_stages_and_tags(aws_backend, sm):
    name = f"{aws_backend}/orders/db-password"
    arn = sm.create_secret(
        Name=name,
        SecretString="first",
        Tags=[
            {"Key": "owner", "Value": "orders"},
            {"Key": "environment", "Value": "staging"},
            {"Key": "kind", "Value": "password"},
            {"Key": "cost-center", "Value": "42"},
        ],
    )["ARN"]
    sm.put_secret_value(SecretId=arn, SecretString="second")

    run = sync_backend("awstest", actor="test")

    assert (run.state, run.created) == ("succeeded", 1)
    secret = Secret.objects.get(backend="awstest", path=arn)
    assert (secret.name, secret.kind, secret.owner_team, secret.environment) == (
        name,
        "password",
        "orders",
        "staging",
    )
    assert secret.tags == {"cost-center": "42"}
    assert secret.rotation_policy.name == "password-30-days"
    stages = {tuple(v.stages): v.state for v in secret.versions.all()}
    assert stages == {("AWSCURRENT",): "current", ("AWSPREVIOUS",): "previous"}
    # Idempotent on AWS too.
    again = sync_backend("awstest", actor="test")
    assert (again.created, again.changed) == (0, 0) and secret.versions.count() == 2


def test_the_command_syncs_one_backend(kv_backend, put_kv):
    from io import StringIO

    from django.core.management import call_command

    put_kv("cmd", "x")
    out = StringIO()
    call_command("sync_inventory", "--backend", "kvtest", stdout=out)
    assert "kvtest: succeeded" in out.getvalue()
    assert Secret.objects.filter(backend="kvtest").count() == 1


def test_certificates_sync_with_expiry_and_the_graceful_policy(settings, openbao, kv):
    settings.SECRET_BACKENDS = {
        **settings.SECRET_BACKENDS,
        "pkitest": {
            **settings.SECRET_BACKENDS["vault"],
            "url": openbao.url,
            "token": openbao.token,
            "engines": "pki",
        },
    }
    issued = kv.secrets.pki.generate_certificate(
        "candlefish", "inventory-test.example", extra_params={"ttl": "240h"}, mount_point="pki"
    )["data"]
    serial = issued["serial_number"]

    run = sync_backend("pkitest", actor="test")

    assert run.state in ("succeeded", "partial")
    secret = Secret.objects.get(backend="pkitest", path=f"pki/cert/{serial}")
    assert secret.kind == "certificate" and secret.rotation_policy.name == "certificate-30-days-before-expiry"
    assert abs((secret.expires_at - timezone.now()) - timezone.timedelta(days=10)) < timezone.timedelta(
        minutes=5
    )
    # 30 days before expiry is before the certificate existed: it is due from the day it was made.
    assert secret.next_due == secret.created_at < secret.expires_at - timezone.timedelta(days=9)
    assert secret.status == "overdue"  # inside the 30-day renewal window already
    assert not secret.writable


def test_an_unchanged_estate_writes_no_inventory_row(kv_backend, put_kv):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    put_kv("a", "1", owner="team-a")
    put_kv("b", "2")
    sync_backend("kvtest", actor="test")

    with CaptureQueriesContext(connection) as queries:
        run = sync_backend("kvtest", actor="test")

    assert run.state == "succeeded" and run.seen == 2
    writes = [
        q["sql"]
        for q in queries
        if q["sql"].startswith(("UPDATE", "INSERT", "DELETE"))
        and ('"inventory_secret"' in q["sql"].split("SET")[0] or "inventory_secretversion" in q["sql"][:40])
    ]
    assert writes == []  # only the run's own row and its audit entry are written


def test_a_vanished_secret_is_found_although_last_seen_is_recent(kv_backend, put_kv, kv, kv_prefix):
    """last_seen moves at most hourly; the walk's own set of seen rows decides what vanished."""
    put_kv("keep", "1")
    put_kv("gone", "2")
    sync_backend("kvtest", actor="test")
    kv.secrets.kv.v2.delete_metadata_and_all_versions(path=f"{kv_prefix}/gone", mount_point="secret")

    run = sync_backend("kvtest", actor="test")

    assert run.vanished == 1
    assert Secret.objects.get(path=f"secret/{kv_prefix}/gone").status == "missing"
    assert Secret.objects.get(path=f"secret/{kv_prefix}/keep").missing_since is None
