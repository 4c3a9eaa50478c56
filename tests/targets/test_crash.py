"""kill -9 of the worker at every step boundary, for rolling, dynamic and graceful: a real worker
process (the engine's own code) dies at the crash point with its lease held; the reconciler takes
the run over and finishes it. Each secret gains exactly one new current version, and the target
and the stored value agree (a fresh login with the stored value).

PostgreSQL only: the worker process and the test share the database."""

import json
import os
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import boto3
import hvac
import pytest
from django.conf import settings
from django.utils import timezone

from secrets_admin.backends import get_backend
from secrets_admin.backends import vault_engines as engines
from secrets_admin.rotation.models import RotationRun
from secrets_admin.rotation.services import engine, reconcile, start_run
from tests.markers import requires_postgres

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]
POINTS = [f"{when}:{step}" for step in ("create", "set", "test", "finish") for when in ("before", "after")]
WORKER = (
    "import os, sys, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'console.settings'); "
    "django.setup(); from secrets_admin.rotation.services import engine; engine.advance(int(sys.argv[1]))"
)


def kill_worker_at(run, point: str, openbao, moto) -> None:
    """Run the engine in its own process until it dies at `point` (os._exit, like kill -9)."""
    db = settings.DATABASES["default"]
    where = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    url = f"postgres://{db['USER']}:{db.get('PASSWORD') or ''}@{where}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "VAULT_ADDR": openbao.url,
        "VAULT_TOKEN": openbao.token,
        "AWS_ENDPOINT_URL": moto.url,
        "ROTATION_TARGETS": json.dumps(settings.ROTATION_TARGETS),
        "ROTATION_CRASH_AT": point,
        "AUDIT_ANCHOR": "off",
    }
    done = subprocess.run([sys.executable, "-c", WORKER, str(run.pk)], env=env, cwd=ROOT, timeout=120,
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 137, (
        f"the worker did not die at {point}: {done.returncode} {done.stderr[-2000:]}"
    )


def reconcile_and_finish(run, monkeypatch) -> RotationRun:
    """The dead worker's lease runs out; the reconciler takes the run over and a worker (here, in
    this process) advances it from the step it reached."""
    run.refresh_from_db()
    assert run.state == RotationRun.State.RUNNING and run.lease_owner, "the dead worker held the lease"
    RotationRun.objects.filter(pk=run.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    monkeypatch.setattr(reconcile, "_enqueue", lambda pk: engine.advance(pk))
    assert reconcile.reconcile()["resumed"] == 1
    run.refresh_from_db()
    assert run.state == RotationRun.State.FINISHED, run.error
    return run


def versions(secret, openbao, moto) -> int:
    if secret.backend == "vault":
        raw = hvac.Client(url=openbao.url, token=openbao.token)
        meta = raw.secrets.kv.v2.read_secret_metadata(path=secret.path.split("/", 1)[1], mount_point="secret")
        return len(meta["data"]["versions"])
    sm = boto3.client("secretsmanager", endpoint_url=moto.url, region_name="us-east-1")
    return len(sm.describe_secret(SecretId=secret.path)["VersionIdsToStages"])


@pytest.mark.parametrize("backend", ["vault", "aws"])
@pytest.mark.parametrize("point", POINTS)
def test_rolling_survives_a_crash_at(
    point, backend, password_secret, rotation_target, openbao, moto, monkeypatch
):
    secret, login, old = password_secret(backend)
    before = versions(secret, openbao, moto)
    run = start_run(secret, actor="test", reason="cli")
    kill_worker_at(run, point, openbao, moto)
    run = reconcile_and_finish(run, monkeypatch)
    store = get_backend(backend)
    stored = store.read_current(secret.path)
    assert versions(secret, openbao, moto) == before + 1, "exactly one new version"
    assert run.new_version_id == store.current_version(secret.path)
    assert rotation_target.target.login_works(login, stored), "the target and the stored value agree"
    assert not rotation_target.target.login_works(login, old)


@pytest.fixture
def static_role(servers, target_db):
    return target_db.configure_engine(get_backend("vault"))


@pytest.mark.parametrize("point", POINTS)
def test_dynamic_survives_a_crash_at(point, make_secret, static_role, target_db, openbao, moto, monkeypatch):
    vault, role = get_backend("vault"), static_role["static_role"]
    user, old, rotated_at = engines.static_credentials(vault, role)
    secret = make_secret(f"database/static-roles/{role}", kind="database")
    run = start_run(secret, actor="test", reason="cli")
    kill_worker_at(run, point, openbao, moto)
    run = reconcile_and_finish(run, monkeypatch)
    user, new, now_at = engines.static_credentials(vault, role)
    assert run.new_version_id == now_at.isoformat() and now_at > rotated_at
    assert target_db.target.login_works(user, new) and not target_db.target.login_works(user, old)
    # Exactly one rotation: the step log shows rotate-role was not repeated after it took effect.
    sets = run.steps.filter(name="set", ok=True)
    assert sets.count() == 1


@pytest.mark.parametrize("point", POINTS)
def test_graceful_survives_a_crash_at(point, make_secret, openbao, moto, monkeypatch, servers):
    vault = get_backend("vault")
    cn = f"svc-{uuid.uuid4().hex[:6]}.payments.internal"
    serial = vault._call("POST", "pki/issue/candlefish", "issue", json={"common_name": cn, "ttl": "240h"})[
        "data"
    ]["serial_number"]
    secret = make_secret(f"pki/cert/{serial}", kind="certificate", name=cn, details={"is_ca": False})
    run = start_run(secret, actor="test", reason="schedule")
    kill_worker_at(run, point, openbao, moto)
    run = reconcile_and_finish(run, monkeypatch)
    same_name = [
        s
        for s in vault._list("pki/certs", "list")
        if engines.certificate_facts(vault, s)["common_name"] == cn
    ]
    assert sorted(same_name) == sorted([serial, run.new_version_id]), "exactly one replacement"
