"""Real Celery worker processes for rotation tests (PostgreSQL only: a worker process must see the
test's committed rows). Reusable by every strategy's crash tests:

    with worker_process(servers, ROTATION_CRASH_AT="after:set", ROTATION_CRASH_ONCE=str(marker)) as w:
        run = start_run(...)               # queued after commit; the worker takes it
        assert w.wait_exit() == 137        # it died at the boundary, as kill -9 would leave it
    finish_with_reconciler(run)            # a fresh worker + the reconciler beat finish the run

Workers run the solo pool, so the crash point's os._exit takes the whole worker down (no pool
parent to notice and re-deliver): what is left is the database lease, the broker message unacked.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.db import connection

from console.celery import app
from secrets_admin.rotation.models import RotationRun
from secrets_admin.rotation.services.reconcile import reconcile

ROOT = Path(__file__).resolve().parents[2]
QUEUE = "console"


def database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def worker_env(servers, **extra) -> dict:
    from django.conf import settings

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "console.settings",
        "DATABASE_URL": database_url(),
        "REDIS_URL": servers.redis_url,
        "VAULT_ADDR": servers.openbao.url,
        "VAULT_TOKEN": servers.openbao.token,
        "AWS_ENDPOINT_URL": servers.moto.url,
        "AWS_REGION": "us-east-1",
        "ROTATION_LEASE_SECONDS": "5",
        "ROTATION_RETRY_BASE_SECONDS": "1",
        "ROTATION_RETRY_MAX_SECONDS": "2",
        "FIELD_ENCRYPTION_KEYS": ",".join(settings.FIELD_ENCRYPTION_KEYS),
        "PYTHONUNBUFFERED": "1",
    }
    for name in ("ROTATION_CRASH_AT", "ROTATION_CRASH_ONCE"):
        env.pop(name, None)
    env.update({name: str(value) for name, value in extra.items()})
    return env


class Worker:
    def __init__(self, env: dict, log: Path):
        command = [sys.executable, "-m", "celery", "-A", "console", "worker", "-Q", QUEUE, "--pool", "solo"]
        command += ["-n", f"rotation-test-{os.getpid()}-{time.monotonic_ns()}@%h"]
        command += ["--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "INFO"]
        self.log = log
        with open(log, "ab") as out:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def wait_exit(self, timeout: float = 90) -> int:
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"the worker did not stop within {timeout}s; log: {self.log}") from None

    def stop(self, sig=signal.SIGTERM):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)


@contextlib.contextmanager
def worker_process(servers, log: Path, **extra):
    worker = Worker(worker_env(servers, **extra), log)
    try:
        yield worker
    finally:
        worker.stop()


def purge_queue() -> None:
    """Drop messages earlier tests left for runs that no longer exist."""
    with app.connection_for_write() as conn:
        with contextlib.suppress(Exception):
            conn.default_channel.queue_purge(QUEUE)


def wait_for(condition, timeout: float, what: str, *, tick=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if tick:
            tick()
        if condition():
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def settled(run: RotationRun) -> bool:
    run.refresh_from_db()
    return not run.active


def finish_with_reconciler(run: RotationRun, servers, log: Path, timeout: float = 90) -> RotationRun:
    """A fresh worker, and the reconciler beat run every tick, until the run has ended."""
    with worker_process(servers, log):
        wait_for(lambda: settled(run), timeout, f"run {run.pk} to end", tick=reconcile)
    return run
