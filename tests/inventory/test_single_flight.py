"""One sync per backend at a time, decided by PostgreSQL (a partial unique index), and a run
whose worker died detected by its heartbeat, marked abandoned (audited), so the next proceeds.

A "held" backend is a socket that accepts connections and never answers: a sync of it stays
in its walk, with its running row committed, for as long as the adapter's timeout allows."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.db import connection, connections
from django.utils import timezone

from secrets_admin.audit.models import AuditEntry
from secrets_admin.inventory.models import Secret, SyncRun
from secrets_admin.inventory.services.sync import aware, sync_backend
from secrets_admin.inventory.services.sync_guard import abandon_silent_runs, start_run
from tests.markers import requires_postgres

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def held():
    """A TCP address that accepts (the kernel's backlog) and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()


def _held_backend(settings, url, timeout):
    config = {"kind": "vault", "url": url, "token": "unused", "engines": "kv", "timeout": timeout}
    settings.SECRET_BACKENDS = {**settings.SECRET_BACKENDS, "held": config}
    return config


def _entries(action, run_ids):
    return AuditEntry.objects.filter(
        action=action, target_type="inventory.syncrun", target_id__in=[str(pk) for pk in run_ids]
    )


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_eight_concurrent_starts_give_exactly_one_run_and_seven_audited_skips(settings, held):
    _held_backend(settings, held, timeout=4)  # the winner walks (held) for 4 s, then fails
    barrier = threading.Barrier(8)
    runs, crashes = [], []

    def start(i):
        try:
            barrier.wait()
            runs.append(sync_backend("held", actor=f"worker-{i}"))
        except Exception as exc:  # pragma: no cover - reported by the assertion below
            crashes.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=start, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert crashes == [] and len(runs) == 8
    rows = SyncRun.objects.filter(backend="held")
    walked = rows.exclude(state=SyncRun.State.SKIPPED)
    assert walked.count() == 1
    winner = walked.get()
    assert winner.state == SyncRun.State.FAILED and "timed out" in winner.error  # it did walk
    skipped = rows.filter(state=SyncRun.State.SKIPPED)
    assert skipped.count() == 7
    for run in skipped:
        assert run.error == f"skipped: sync run {winner.pk} of held is still running"
        assert run.started_at < winner.finished_at  # every skip happened while the winner ran
    audited = _entries("inventory.sync.skipped", [r.pk for r in skipped])
    assert audited.count() == 7
    assert {e.data["running"] for e in audited} == {winner.pk}


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_a_killed_workers_run_is_abandoned_after_its_timeout_and_the_next_run_proceeds(
    settings, held, openbao, kv, kv_prefix
):
    # A real worker process: `manage.py sync_inventory` walking the held backend, killed mid-walk.
    held_config = _held_backend(settings, held, timeout=120)
    url = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/" + connection.settings_dict["NAME"]
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": settings.REDIS_URL,
        "SECRET_BACKENDS": json.dumps({"held": held_config}),
    }
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "sync_inventory", "--backend", "held"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 90
        while not SyncRun.objects.filter(backend="held", state=SyncRun.State.RUNNING).exists():
            assert worker.poll() is None and time.monotonic() < deadline, "the worker never started its run"
            time.sleep(0.1)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    dead = SyncRun.objects.get(backend="held", state=SyncRun.State.RUNNING)

    # The backend is back (same name, now the real OpenBao): within the timeout, a start is skipped.
    kv.secrets.kv.v2.create_or_update_secret(path=f"{kv_prefix}/app/key", secret={"value": "x"})
    settings.SECRET_BACKENDS = {
        **settings.SECRET_BACKENDS,
        "held": {**held_config, "url": openbao.url, "token": openbao.token, "kv_prefix": kv_prefix},
    }
    skipped = sync_backend("held", actor="beat")
    assert skipped.state == SyncRun.State.SKIPPED
    assert _entries("inventory.sync.skipped", [skipped.pk]).count() == 1

    # Past the timeout without a heartbeat, the next start abandons it (audited) and walks.
    settings.INVENTORY_SYNC_TIMEOUT = 1
    time.sleep(1.2)
    run = sync_backend("held", actor="beat")
    assert run.state == SyncRun.State.SUCCEEDED and run.created == 1
    dead.refresh_from_db()
    assert dead.state == SyncRun.State.ABANDONED and dead.finished_at is not None
    assert "no sign of life" in dead.error
    entry = _entries("inventory.sync.abandoned", [dead.pk]).get()
    assert entry.data["backend"] == "held" and entry.data["timeout_seconds"] == 1
    assert Secret.objects.filter(backend="held", path=f"secret/{kv_prefix}/app/key").exists()


@pytest.mark.django_db
def test_a_run_marked_abandoned_writes_nothing_more_and_its_walk_stops(settings, kv_backend, put_kv):
    put_kv("app/key", "x")
    run = start_run("kvtest", "worker")
    settings.INVENTORY_SYNC_TIMEOUT = 1
    assert abandon_silent_runs(actor="beat", now=timezone.now() + timedelta(seconds=5)) == [run.pk]

    run.seen = 99
    assert run.save_progress() is False and run.finish(SyncRun.State.SUCCEEDED) is False
    run.refresh_from_db()
    assert (run.state, run.seen) == (SyncRun.State.ABANDONED, 0)
    # the backend is free again: the next sync runs
    assert sync_backend("kvtest", actor="beat").state == SyncRun.State.SUCCEEDED


@pytest.mark.django_db
def test_a_beating_run_is_not_abandoned(settings, kv_backend):
    run = start_run("kvtest", "worker")
    settings.INVENTORY_SYNC_TIMEOUT = 60
    assert abandon_silent_runs(actor="beat", now=timezone.now() + timedelta(seconds=30)) == []
    assert run.save_progress() is True
    assert SyncRun.objects.get(pk=run.pk).state == SyncRun.State.RUNNING


def test_naive_backend_times_are_read_as_utc():
    moment = aware(datetime(2026, 3, 1, 12, 30))  # before the fix: AttributeError (timezone.UTC)
    assert moment.utcoffset() == timedelta(0) and moment.hour == 12
    already = timezone.now()
    assert aware(already) is already and aware(None) is None
