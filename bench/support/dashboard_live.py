"""Event -> websocket message latency for bench/dashboard.py, on the real path:

- a real Celery worker (`celery -A console worker`, its own processes, DATABASE_URL the size's
  database, the bench's Redis as broker, cache and channel layer) runs `dashboard.live_refresh`;
- the bench process holds a manager's socket open on the real consumer (console.asgi through
  channels' WebsocketCommunicator: session, OTP check, group check, the topic's three views);
- each event is what a service does after its commit: a rotation run finished (a RotationRun row
  committed, then `dashboard.live.changed("rotation")`), or a request waiting for approval (an
  AccessRequest row, then `changed("approvals")`). The clock starts at `changed()` (the commit's
  on_commit hook) and stops when the socket has the tiles fragment (`rotation`, `approvals`); for a
  rotation also when it has the second round with the charts (`rotation_charts`).

Also timed: what `changed()` costs the announcing process (the web request or worker that made
the change), against the old path, the whole live set recomputed in that process."""

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
VIEWS = ("tiles", "age", "trend")


def cpu_seconds(pid: int) -> float:
    """user+sys of a process and its waited-for children (the worker's pool processes)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(v) for v in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")


def tree_cpu(pid: int) -> float:
    total = cpu_seconds(pid)
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        try:
            total += tree_cpu(int(child))
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total


def start_worker(database_url: str) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": database_url, "DEBUG": "false"}
    command = [sys.executable, "-m", "celery", "-A", "console", "worker", "-Q", "console"]
    command += ["--concurrency", "2", "-l", "WARNING", "--without-gossip", "--without-mingle"]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)  # its banner


def purge_queue() -> None:
    from console.celery import app

    app.control.purge()


async def _open(client):
    from channels.testing import WebsocketCommunicator
    from django.conf import settings

    from console import live
    from console.asgi import application
    from secrets_admin.dashboard.live import TOPIC

    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    headers = [(b"origin", b"http://testserver"), (b"host", b"testserver")]
    headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()))
    query = "&".join([f"topic={TOPIC}", *(f"view={v}" for v in VIEWS), f"seq={live.current_seq(TOPIC)}"])
    socket = WebsocketCommunicator(application, f"/ws/live/?{query}", headers=headers)
    connected, _ = await socket.connect(timeout=10)
    if not connected:
        raise SystemExit("the manager's dashboard socket was refused")
    return socket


def _rotation_finished(alias: str, secret_id: int):
    from django.db import transaction
    from django.utils import timezone

    from secrets_admin.rotation.models import RotationRun

    with transaction.atomic(using=alias):
        now = timezone.now()
        RotationRun.objects.create(
            secret_id=secret_id, strategy="rolling", state="finished", step="done", actor_name="bench live",
            started_at=now, finished_at=now,
        )  # fmt: skip
    return "rotation"


def _approval_waiting(alias: str, requester_id: int):
    from django.db import transaction
    from django.utils import timezone

    from breakglass.models import AccessRequest

    with transaction.atomic(using=alias):
        now = timezone.now()
        AccessRequest.objects.create(
            requester_id=requester_id, requester_name="bench-requester", reason="bench live", scope=[],
            duration_seconds=3600, groups=["security-team"], status="pending", request_hash="0" * 64,
            pending_until=now,
        )  # fmt: skip
    return "approvals"


def _tidy(alias: str) -> None:
    """The events' rows go: the next run starts from the loaded estate."""
    from breakglass.models import AccessRequest
    from secrets_admin.rotation.models import RotationRun

    RotationRun.objects.using(alias).filter(actor_name="bench live").delete()
    AccessRequest.objects.using(alias).filter(reason="bench live").delete()


async def _one(socket, event, rounds: int) -> tuple[float, float, float]:
    """(ms from changed() to the tiles fragment, to the last fragment of `rounds` publishes, and
    ms changed() held the announcing process). A rotation is published twice (the tiles and
    rotations due first, then the charts), an approval once."""
    from asgiref.sync import sync_to_async

    from secrets_admin.dashboard import live as dashboard_live

    reason = await sync_to_async(event)()
    started = time.perf_counter()
    await sync_to_async(dashboard_live.changed)(reason)
    announced = time.perf_counter()
    tiles = None
    for _ in range(len(VIEWS) * rounds):
        message = await socket.receive_output(timeout=30)
        if message["type"] != "websocket.send":
            raise SystemExit(f"the dashboard socket closed: {message}")
        if tiles is None and message["text"].startswith('<div id="dashboard-tiles"'):
            tiles = time.perf_counter()
    done = time.perf_counter()
    return (tiles - started) * 1000, (done - started) * 1000, (announced - started) * 1000


def measure(alias_var, alias: str, client, rounds: int) -> dict:
    """`rounds` events of each kind, alternating, on one socket; latencies in ms. `alias_var`:
    the bench's context variable its router reads (the consumer's threads inherit it)."""
    from asgiref.sync import async_to_sync, sync_to_async
    from django.contrib.auth import get_user_model

    from secrets_admin.inventory.models import Secret

    token = alias_var.set(alias)
    try:
        secret_id = Secret.objects.order_by("id").values_list("id", flat=True).first()
        requester_id = get_user_model().objects.get(username="bench-requester").pk
    finally:
        alias_var.reset(token)
    rotation = lambda: _rotation_finished(alias, secret_id)  # noqa: E731
    approval = lambda: _approval_waiting(alias, requester_id)  # noqa: E731

    async def scenario():
        token = alias_var.set(alias)
        try:
            socket = await _open(client)
            found = {"rotation": [], "rotation_charts": [], "approvals": [], "announce": []}
            await _one(socket, rotation, 2)  # warm: worker, templates
            for _ in range(rounds):
                for kind, event, publishes in (("rotation", rotation, 2), ("approvals", approval, 1)):
                    tiles, charts, announce = await _one(socket, event, publishes)
                    found[kind].append(tiles)
                    if kind == "rotation":
                        found["rotation_charts"].append(charts)
                    found["announce"].append(announce)
                    await asyncio.sleep(0.05)
            await socket.disconnect()
            await sync_to_async(_tidy)(alias)
            return found
        finally:
            alias_var.reset(token)

    return async_to_sync(scenario)()


def latency(sizes, events: int, clients, url: str, alias_var, router) -> dict:
    """Per size: a worker on the size's database, `events` events of each kind on one socket, and
    the CPU the worker (with its pool) and this process spent meanwhile. `router.forced` sends the
    consumer's queries to the size's database."""
    found = {}
    for size in sizes:
        purge_queue()
        worker = start_worker(f"{url}_{size}")
        try:
            time.sleep(3)  # the worker connects to the broker
            cpu = (tree_cpu(worker.pid), time.process_time())
            started, router.forced = time.perf_counter(), f"s{size}"
            found[size] = measure(alias_var, f"s{size}", clients[size], events)
            found[size]["wall_s"] = round(time.perf_counter() - started, 2)
            found[size]["worker_cpu_s"] = round(tree_cpu(worker.pid) - cpu[0], 2)
            found[size]["bench_cpu_s"] = round(time.process_time() - cpu[1], 2)
        finally:
            router.forced = None
            worker.terminate()
            worker.wait(timeout=60)
    return found
