"""The sequencer loop, its lag, and the alarm when entries wait too long."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from secrets_admin.audit import sequencer, services
from secrets_admin.audit.models import AuditEntry
from secrets_admin.audit.status import chain_status, summary
from tests.audit.conftest import THING_DONE, tamper, write


@pytest.mark.django_db(transaction=True)
def test_the_loop_links_what_writers_commit_within_a_fraction_of_a_second():
    stop = threading.Event()
    loop = threading.Thread(target=sequencer.run, kwargs={"interval": 0.05, "stop": stop})
    loop.start()
    try:
        lags = []
        for i in range(20):
            with transaction.atomic():
                entry = services.record(THING_DONE, actor="writer", data={"i": i})
            started = time.monotonic()
            while AuditEntry.objects.filter(pk=entry.pk, sequence__isnull=True).exists():
                assert time.monotonic() - started < 5, "the loop did not link the entry"
                time.sleep(0.01)
            lags.append(time.monotonic() - started)
    finally:
        stop.set()
        loop.join(10)
    assert not loop.is_alive()
    assert list(AuditEntry.objects.order_by("sequence").values_list("sequence", flat=True)) == list(
        range(1, 21)
    )
    assert sorted(lags)[-2] < 1.0  # p95 of 20


@pytest.mark.django_db
def test_the_lag_counts_waiting_entries_and_the_oldest_ones_age():
    assert sequencer.lag().pending == 0 and sequencer.lag().oldest_seconds is None
    write(3, link=False)
    lag = sequencer.lag()
    assert lag.pending == 3 and 0 <= lag.oldest_seconds < 5 and not lag.stuck
    sequencer.link()
    assert sequencer.lag().pending == 0


@pytest.mark.django_db
def test_an_entry_waiting_more_than_a_minute_raises_the_chain_alert_once_and_shows_everywhere(
    monkeypatch, make_user
):
    seen, cleared = [], []
    monkeypatch.setattr(services, "raise_chain_alert", seen.append)
    monkeypatch.setattr(services, "clear_chain_alert", cleared.append)
    (entry,) = write(1, link=False)
    minutes_ago = timezone.now() - timedelta(seconds=90)
    tamper("UPDATE audit_auditentry SET created_at = %s WHERE id = %s", [minutes_ago, entry.pk])

    assert sequencer.watch().stuck
    sequencer.watch()  # the same episode: one alarm
    assert [(o.kind, o.ok) for o in seen] == [("unlinked", False)]
    assert f"entry id {entry.pk} has waited" in seen[0].problem
    assert summary()["lag_s"] >= 90
    assert any("wait for the sequencer" in line for line in chain_status().alarms)

    sequencer.link()
    assert not sequencer.watch().stuck and len(seen) == 1
    sequencer.watch()
    assert cleared == ["unlinked"]
