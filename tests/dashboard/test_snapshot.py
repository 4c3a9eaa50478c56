"""The dashboard's stored figures (services.snapshot): the page reads them, a fresh install
computes them once, live events (on a real Celery worker) and the beat recompute them, and a
burst of events costs at most two recomputes (one in flight, one queued), not one per event."""

import threading
import time

import pytest

from secrets_admin.dashboard import live as dashboard_live
from secrets_admin.dashboard import tasks
from secrets_admin.dashboard.models import Snapshot
from secrets_admin.dashboard.services import headline, refresh, snapshot
from tests.accounts.factories import verified_client
from tests.dashboard import estate
from tests.dashboard.conftest import queued_tasks, wait_for


def _tiles(client) -> str:
    page = client.get("/").content.decode()
    return page[page.index('id="dashboard-tiles"') :]


@pytest.mark.django_db(transaction=True)  # the worker's thread reads what the test committed
def test_a_fresh_install_computes_once_then_the_page_reads_the_stored_row(dashboard_worker):
    estate.build()
    client = verified_client(estate.person("manager", "managers"))
    assert not Snapshot.objects.exists()
    tiles = _tiles(client)
    row = Snapshot.objects.get(name=snapshot.NAME)
    assert '/inventory/?status=overdue" data-tile-number>2<' in tiles
    assert f"Figures as of {row.computed_at:%H:%M:%S} UTC" in tiles
    stored = dict(row.figures["headline"])
    fresh = headline.headline_numbers()
    assert stored.pop("at") and fresh.pop("at") and fresh.pop("backends")
    assert stored == fresh  # the stored numbers are the service's, exactly

    estate.secret("secret/after/the/snapshot", status="overdue")
    assert '/inventory/?status=overdue" data-tile-number>2<' in _tiles(client)  # still the row
    dashboard_live.changed("test")  # what a publish helper calls after commit: queues the task
    wait_for(lambda: '/inventory/?status=overdue" data-tile-number>3<' in _tiles(client))
    assert Snapshot.objects.count() == 2  # the live set and the planning set


@pytest.mark.django_db
def test_the_beat_task_recomputes_the_stored_figures():
    snapshot.recompute()
    before = Snapshot.objects.get(name=snapshot.NAME).computed_at
    planned_before = Snapshot.objects.get(name=snapshot.PLANNING).computed_at
    estate.secret("secret/for/the/beat")
    assert tasks.recompute_snapshot() is True
    row = Snapshot.objects.get(name=snapshot.NAME)
    assert row.computed_at > before and row.figures["headline"]["secrets"]["total"] == 1
    assert Snapshot.objects.get(name=snapshot.PLANNING).computed_at > planned_before


@pytest.mark.django_db
def test_events_only_queue_one_task_and_mark_the_parts_they_move(broker, django_assert_num_queries):
    with django_assert_num_queries(0):  # the announcing request pays no SQL
        for _ in range(5):
            dashboard_live.changed("approvals")
        dashboard_live.changed("sync")
    assert [m["headers"]["task"] for m in queued_tasks(broker)] == ["dashboard.live_refresh"]
    snapshot.recompute()
    assert sorted(refresh.run("test")) == ["access", "age", "rotations", "secrets"]  # approvals + sync
    assert refresh.run("test") == []  # nothing marked since: no recompute, no publish


@pytest.mark.django_db
def test_an_approval_recomputes_only_the_access_tile():
    snapshot.recompute()
    estate.secret("secret/not/announced")
    estate.access_request(estate.person("dev", "developers"), "pending")
    dashboard_live.changed("approvals")
    assert refresh.run("approvals") == ["access"]
    headline_figures = Snapshot.objects.get(name=snapshot.NAME).figures["headline"]
    assert headline_figures["access"]["pending_approvals"] == 1
    assert headline_figures["secrets"]["total"] == 0  # a sync would move it, not an approval


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_events_recomputes_at_most_twice_and_ends_current(dashboard_worker, monkeypatch):
    computed = []
    original = refresh.recompute_parts

    def slow(parts, now=None):  # reads first, then lasts long enough for the burst to arrive
        if "secrets" in parts:  # a sync's first batch (the age histogram follows in its own)
            computed.append(sorted(parts))
        original(parts, now)
        time.sleep(0.3)

    monkeypatch.setattr(refresh, "recompute_parts", slow)
    snapshot.recompute()
    dashboard_live.changed("sync")
    wait_for(lambda: computed)  # the first recompute is in flight
    estate.secret("secret/during/the/burst")  # committed while it runs
    burst = [threading.Thread(target=dashboard_live.changed, args=("sync",)) for _ in range(8)]
    for thread in burst:
        thread.start()
    for thread in burst:
        thread.join(timeout=10)
    wait_for(lambda: len(computed) == 2 and refresh.LOCK_KEY not in _locks())
    time.sleep(0.5)  # nothing else comes
    assert len(computed) == 2  # the first event's, and one for the eight that came during it
    assert Snapshot.objects.get(name=snapshot.NAME).figures["headline"]["secrets"]["total"] == 1


def _locks():
    from django.core.cache import cache

    return {key for key in [refresh.LOCK_KEY] if cache.get(key)}
