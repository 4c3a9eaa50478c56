"""The dashboard's stored figures (services.snapshot): the page reads them, a fresh install
computes them once, live events and the beat recompute them, and a burst of events costs one
recompute (plus one for what arrived during it), not one per event."""

import threading
import time

import pytest
from django.db import connection

from secrets_admin.dashboard import live as dashboard_live
from secrets_admin.dashboard import tasks
from secrets_admin.dashboard.models import Snapshot
from secrets_admin.dashboard.services import headline, snapshot
from tests.accounts.factories import verified_client
from tests.dashboard import estate


def _tiles(client) -> str:
    page = client.get("/").content.decode()
    return page[page.index('id="dashboard-tiles"') :]


@pytest.mark.django_db
def test_a_fresh_install_computes_once_then_the_page_reads_the_stored_row():
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
    dashboard_live.changed("test")  # what a publish helper calls after commit
    assert '/inventory/?status=overdue" data-tile-number>3<' in _tiles(client)
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


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_events_recomputes_once_and_ends_current(monkeypatch):
    computed = []
    original = snapshot.compute

    def slow(*args):  # reads first, then lasts long enough for the burst to arrive meanwhile
        computed.append(1)
        figures = original(*args)
        time.sleep(0.3)
        return figures

    monkeypatch.setattr(snapshot, "compute", slow)

    def event():
        try:
            dashboard_live.changed("burst")
        finally:
            connection.close()

    first = threading.Thread(target=event)
    first.start()
    time.sleep(0.1)
    estate.secret("secret/during/the/burst")  # committed while the first recompute runs
    burst = [threading.Thread(target=event) for _ in range(8)]
    for thread in burst:
        thread.start()
    for thread in [first, *burst]:
        thread.join(timeout=10)
    assert len(computed) == 2  # the first event's, and one for the eight that came during it
    assert Snapshot.objects.get(name=snapshot.NAME).figures["headline"]["secrets"]["total"] == 1
