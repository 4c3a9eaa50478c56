"""Redis (the broker) restarted while 50 rotations run: every run ends exactly once, driven by the
database lease and the reconciler, not by the broker.

The test starts a Redis of its own (the embedded Valkey the stack uses, on a free port: the
session's Redis serves other tests and other people, and is never restarted) and two real Celery
workers against it. It starts 50 blue-green rotations of KV v2 keys, and once some have finished
and others are in flight it kills Redis with SIGKILL and starts an empty one on the same port:
every queued and unacknowledged message is gone. The workers reconnect; the reconciler beat (run
here on every tick) re-queues what nobody moves. Each key gains exactly one version, each run
finishes once, no staging value is left, no lease is held, and the audit chain verifies.
"""

import signal
import time
from datetime import timedelta

import hvac
import hvac.exceptions
import pytest
from django.db.models import Count

from console.celery import app
from console.stack.servers import Valkey
from secrets_admin.audit.models import AuditEntry
from secrets_admin.audit.verification import verify
from secrets_admin.rotation.models import RotationRun
from secrets_admin.rotation.services import reconcile as reconciler
from secrets_admin.rotation.services import start_run
from tests.markers import requires_postgres
from tests.rotation.workers import wait_for, worker_process

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]

RUNS = 50


def _use_broker(url: str) -> None:
    """Point this process's Celery app at `url` (start_run and the reconciler publish from here)."""
    app.conf.update(broker_url=url, result_backend=url)
    app._pool = None  # connections to the previous broker are not reused
    app.amqp._producer_pool = None


@pytest.fixture
def own_redis(tmp_path, servers, monkeypatch):
    redis = Valkey(tmp_path / "redis").start()
    redis.wait_ready()
    servers_url = servers.redis_url
    _use_broker(redis.url)
    # A message lost with Redis is re-queued after 2 s without news, not 20: the test stays short.
    monkeypatch.setattr(reconciler, "PICKUP_AFTER", timedelta(seconds=2))
    holder = {"redis": redis}
    try:
        yield holder
    finally:
        holder["redis"].stop()
        _use_broker(servers_url)


def _restart(holder, tmp_path) -> int:
    """SIGKILL Redis (no shutdown, nothing saved) and start an empty one on the same port."""
    old = holder["redis"]
    old_pid = old.pid
    old.process.send_signal(signal.SIGKILL)
    old.process.wait(10)
    time.sleep(0.5)  # workers and publishers see the connection drop
    new = Valkey(tmp_path / "redis-again", port=old.port).start()
    new.wait_ready()
    holder["redis"] = new
    assert new.pid != old_pid
    return new.pid


def test_redis_restarted_while_50_rotations_run(own_redis, servers, openbao, make_secret, tmp_path):
    raw = hvac.Client(url=openbao.url, token=openbao.token)
    folder = f"broker-{time.monotonic_ns()}"
    secrets = []
    for i in range(RUNS):
        raw.secrets.kv.v2.create_or_update_secret(path=f"{folder}/key-{i}", secret={"value": f"old-{i}"})
        secrets.append(make_secret(f"secret/{folder}/key-{i}", backend="vault"))
    env = {"REDIS_URL": own_redis["redis"].url}

    with (
        worker_process(servers, tmp_path / "worker-a.log", **env),
        worker_process(servers, tmp_path / "worker-b.log", **env),
    ):
        runs = [start_run(secret, actor="test", reason="schedule") for secret in secrets]
        ids = [run.pk for run in runs]
        finished = RotationRun.objects.filter(pk__in=ids, state="finished")
        wait_for(lambda: finished.count() >= 3, 120, "the first rotations to finish")

        _restart(own_redis, tmp_path)
        in_flight = RUNS - finished.count()
        assert in_flight >= 10, f"only {in_flight} runs were in flight at the restart"

        wait_for(lambda: finished.count() == RUNS, 240, "every run to finish", tick=reconciler.reconcile)

    runs = RotationRun.objects.filter(pk__in=ids)
    assert set(runs.values_list("state", flat=True)) == {"finished"}
    assert not runs.exclude(lease_owner="").exists() and not runs.filter(lease_expires_at__isnull=False)
    per_secret = RotationRun.objects.filter(secret__in=secrets).values("secret").annotate(n=Count("id"))
    assert {row["n"] for row in per_secret} == {1}  # one run per secret, no second start

    for run in runs.select_related("secret"):
        path = run.secret.path.split("/", 1)[1]
        i = int(path.rsplit("-", 1)[1])
        meta = raw.secrets.kv.v2.read_secret_metadata(path=path)["data"]
        assert meta["current_version"] == 2 and len(meta["versions"]) == 2, (path, meta["versions"].keys())
        assert run.new_version_id == "2"
        current = raw.secrets.kv.v2.read_secret_version(path=path, raise_on_deleted_version=True)
        assert current["data"]["data"]["value"] != f"old-{i}"
    with pytest.raises(hvac.exceptions.InvalidPath):  # no pending value is left behind
        raw.secrets.kv.v2.list_secrets(path=f"candlefish-pending/{folder}")

    finishes = AuditEntry.objects.filter(
        action="rotation.run.finished", target_id__in=[str(pk) for pk in ids]
    )
    assert finishes.count() == RUNS and finishes.values("target_id").distinct().count() == RUNS
    assert verify(full=True).ok
