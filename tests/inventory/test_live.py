"""'Sync now' through a real Celery worker on the real broker, and live progress over the
real websocket stack (transactional tests: on_commit hooks and other threads must see the rows)."""

import re
import time

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.urls import reverse
from django.utils import timezone

from console import live
from secrets_admin.audit.models import AuditEntry
from secrets_admin.inventory.models import Secret, SyncRun
from secrets_admin.inventory.services.sync import sync_backend
from tests.live_client import live_query, open_live


def _row(html: str, run_pk: int) -> str:
    """The <tr> of one run, whitespace-normalised."""
    found = re.search(rf'<tr data-run="{run_pk}">.*?</tr>', html, re.S)
    assert found, f"no row for run {run_pk} in:\n{html}"
    return " ".join(found.group(0).split())


@pytest.mark.django_db(transaction=True)
def test_a_sync_reaches_followers_in_the_words_of_the_page(kv_backend, put_kv, person, client_for):
    for i in range(3):
        put_kv(f"live/{i}", f"canary-value-{i}-never-shown")
    client = client_for(person("watcher", "managers"))
    since = timezone.now().isoformat()
    seq = live.current_seq("inventory.sync")
    query = live_query("inventory.sync", "banner", "runs", seq=seq, since=since)

    async def scenario():
        socket = await open_live(client, query)
        run = await sync_to_async(sync_backend)("kvtest", actor="test")
        messages = [await socket.receive_from(timeout=5)]
        while not (messages[-1].startswith('<tbody id="run-rows"') and "Succeeded" in messages[-1]):
            messages.append(await socket.receive_from(timeout=5))
        await socket.disconnect()
        return run, messages

    run, messages = async_to_sync(scenario)()
    # One message per view, banner then table, per render. Events that queued while the socket
    # rendered are absorbed: at most three renders (started, the chunk, finished).
    assert len(messages) % 2 == 0 and 2 <= len(messages) <= 6
    banners, tables = messages[0::2], messages[1::2]
    assert all(m.startswith('<div id="sync-live" hx-swap-oob="innerHTML">') for m in banners)
    assert all(m.startswith('<tbody id="run-rows" hx-swap-oob="innerHTML">') for m in tables)
    page = client.get(reverse("inventory:runs")).content.decode()
    assert _row(tables[-1], run.pk) == _row(page, run.pk)
    assert f"Sync run #{run.pk}</a> of kvtest" in banners[-1] and "seen 3, created 3" in banners[-1]
    assert not any("canary-value" in m for m in messages)


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
