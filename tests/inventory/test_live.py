"""'Sync now' through a real Celery worker on the real broker, and live progress over the
websocket consumer (transactional tests: on_commit hooks and other threads must see the rows)."""

import time

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.urls import reverse

from console.consumers import LiveConsumer
from secrets_admin.audit.models import AuditEntry
from secrets_admin.inventory.models import Secret, SyncRun
from secrets_admin.inventory.services.sync import sync_backend


@pytest.mark.django_db(transaction=True)
def test_sync_progress_reaches_websocket_subscribers(kv_backend, put_kv, person):
    for i in range(3):
        put_kv(f"live/{i}", "x")
    user = person("watcher", "managers")

    async def scenario():
        socket = WebsocketCommunicator(LiveConsumer.as_asgi(), "/ws/live/")
        socket.scope["user"] = user
        connected, _ = await socket.connect()
        assert connected and (await socket.receive_json_from())["authenticated"] is True
        await socket.send_json_to({"subscribe": "inventory.sync"})
        assert (await socket.receive_json_from())["type"] == "subscribed"
        run = await sync_to_async(sync_backend)("kvtest", actor="test")
        events = []
        while not events or events[-1].get("event") != "finished":
            events.append(await socket.receive_json_from(timeout=5))
        await socket.disconnect()
        return run, events

    run, events = async_to_sync(scenario)()

    assert [e["event"] for e in events] == ["progress", "finished"]
    assert all(e["topic"] == "inventory.sync" and e["run"] == run.pk for e in events)
    assert events[-1] | {"topic": None} == {
        "topic": None,
        "event": "finished",
        "run": run.pk,
        "backend": "kvtest",
        "state": "succeeded",
        "seen": 3,
        "created": 3,
        "changed": 0,
        "vanished": 0,
        "errors": 0,
        "duration": run.duration_seconds,
        "error": "",
    }


@pytest.mark.django_db(transaction=True)
def test_sync_now_queues_the_task_and_a_real_worker_runs_it(kv_backend, put_kv, person, client_for):
    from celery.contrib.testing.worker import start_worker

    from console.celery import app

    put_kv("queued/one", "x")
    carol = person("carol", "security-team")
    client = client_for(carol)
    with start_worker(app, perform_ping_check=False, loglevel="WARNING"):
        response = client.post(reverse("inventory:sync"), {"backend": "kvtest"})
        assert response.status_code == 302
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            run = SyncRun.objects.filter(backend="kvtest").exclude(state="running").first()
            if run:
                break
            time.sleep(0.2)
    assert run is not None, "the worker did not finish a sync run within 30 s"
    assert (run.state, run.created, run.actor) == ("succeeded", 1, "celery:inventory.sync")
    assert Secret.objects.filter(backend="kvtest", path__endswith="/queued/one").exists()
    requested = AuditEntry.objects.get(action="inventory.sync.requested")
    assert requested.actor_name == "carol" and requested.data == {"backend": "kvtest"}


@pytest.mark.django_db
def test_sync_now_refuses_an_unknown_backend(person, client_for):
    client = client_for(person("carol", "security-team"))
    response = client.post(reverse("inventory:sync"), {"backend": "nope"}, follow=True)
    assert "No backend named" in response.content.decode()
    assert not AuditEntry.objects.filter(action="inventory.sync.requested").exists()
