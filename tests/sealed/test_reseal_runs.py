"""Re-seal runs through the real rotation engine: a run started like any other (reason campaign)
makes one commit whose ciphertext opens to a new value; a process killed at any step boundary
(the engine's crash points, `os._exit` as kill -9 would) leaves a run the reconciler resumes,
still with exactly one commit."""

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from secrets_admin.audit.models import AuditEntry
from secrets_admin.backends import sealing
from secrets_admin.backends.sealed_manifests import parse
from secrets_admin.inventory.models import Secret
from secrets_admin.inventory.services.sync import sync_backend
from secrets_admin.rotation.models import RotationRun
from secrets_admin.rotation.services import engine, start_run
from secrets_admin.rotation.services.reconcile import reconcile
from tests.markers import requires_postgres
from tests.sealed.conftest import git

ROOT = Path(__file__).resolve().parents[2]
BOUNDARIES = [
    f"{when}:{step}" for step in ("create", "set", "test", "finish") for when in ("before", "after")
]


@pytest.fixture
def sealed_secret(sealed_backend, db):
    path = sealed_backend.add("apps/api.yaml", "api", "shop", values={"token": "old-token"}, cert="old")
    sync_backend("gitops", actor=None)
    secret = Secret.objects.get(backend="gitops", path=path)
    Secret.objects.filter(pk=secret.pk).update(kind="api_key")
    secret.refresh_from_db()
    return secret


def commits_for(clone, run) -> int:
    return git(clone.path, "log", "--format=%H", f"--grep=candlefish-run={run.token}", "main").count("\n")


def opens(clone, certs, path) -> str:
    (manifest,), _ = parse("apps/api.yaml", git(clone.path, "show", "main:apps/api.yaml"))
    return sealing.unseal(manifest.encrypted["token"], certs["current"].private_key, manifest.label).decode()


@pytest.mark.django_db
def test_a_campaign_run_reseals_through_the_engine(sealed_secret, sealed_backend, sealing_configured):
    run = start_run(sealed_secret, actor="test", reason="campaign", strategy="reseal")
    result = engine.advance(run.pk)
    run.refresh_from_db()
    assert result["state"] == run.state == "finished", run.error
    assert run.new_version_id == git(sealed_backend.path, "rev-parse", "main").strip()
    assert commits_for(sealed_backend, run) == 1
    value = opens(sealed_backend, sealing_configured, sealed_secret.path)
    assert value != "old-token" and len(value) >= 32
    facts = json.dumps(run.state_data) + json.dumps(list(run.steps.values("facts", "error")))
    assert value not in facts and run.state_data["checked"] == "decrypted"
    sync_backend("gitops", actor=None)
    sealed_secret.refresh_from_db()
    assert sealed_secret.details["certificate_status"] == "current"


def database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def advance_in_a_process(run, settings, crash_at: str) -> int:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "console.settings",
        "DATABASE_URL": database_url(),
        "SECRET_BACKENDS": json.dumps({"gitops": settings.SECRET_BACKENDS["gitops"]}),
        "SEALED_CERTIFICATES": ",".join(settings.SEALED_CERTIFICATES),
        "SEALED_PRIVATE_KEYS": ",".join(settings.SEALED_PRIVATE_KEYS),
        "FIELD_ENCRYPTION_KEYS": ",".join(settings.FIELD_ENCRYPTION_KEYS),
        "ROTATION_LEASE_SECONDS": "5",
        "ROTATION_CRASH_AT": crash_at,
    }
    code = (
        "import django; django.setup(); from secrets_admin.rotation.services import engine; "
        f"engine.advance({run.pk})"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, timeout=120)
    return done.returncode


@requires_postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("point", BOUNDARIES)
def test_a_process_killed_at_a_step_boundary_leaves_a_run_the_reconciler_finishes(
    point, sealed_secret, sealed_backend, sealing_configured, settings
):
    run = RotationRun.objects.create(secret=sealed_secret, strategy="reseal", reason="campaign")
    assert advance_in_a_process(run, settings, point) == 137, f"the process should have died at {point}"
    run.refresh_from_db()
    assert run.state == "running" and run.lease_owner  # left behind, as after kill -9
    assert reconcile(now=timezone.now() + timedelta(seconds=10))["resumed"] == 1
    engine.advance(run.pk)
    run.refresh_from_db()
    assert run.state == "finished", run.error
    assert commits_for(sealed_backend, run) == 1, "exactly one re-seal commit however the run was cut"
    assert git(sealed_backend.path, "rev-list", "--count", "main").strip() == "2"
    assert opens(sealed_backend, sealing_configured, sealed_secret.path) != "old-token"
    assert AuditEntry.objects.filter(action="rotation.run.resumed", target_id=str(run.pk)).count() == 1


@pytest.mark.django_db
def test_a_sealed_secret_under_an_ordinary_policy_rotates_by_resealing(sealed_secret, sealing_configured):
    from secrets_admin.inventory.models import RotationPolicy

    policy = RotationPolicy.objects.filter(kind="api_key", is_default=True).first()
    assert policy is not None and policy.strategy != "reseal"
    Secret.objects.filter(pk=sealed_secret.pk).update(rotation_policy=policy)
    sealed_secret.refresh_from_db()
    run = start_run(sealed_secret, actor="test", reason="schedule")
    assert run.strategy == "reseal"
