"""The delivery path end to end on a real Celery worker (the session's real broker, never eager
mode): raise after commit -> task -> transport -> local receivers; a retry after a temporary
error; resolve only after trigger; and the reconciler re-sending what lost its message.

While the worker runs, the test watches the receivers, not the database: SQLite's in-memory
test database refuses a write outright (no busy wait) while another thread reads a table, so
the database is read once the worker has stopped (a warm shutdown finishes the running task)."""

import time
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.utils import timezone

from console.celery import app
from secrets_admin.alerts import events
from secrets_admin.alerts.models import Alert, Delivery
from secrets_admin.alerts.services import raise_alert, resolve_alert
from secrets_admin.alerts.tasks import reconcile
from tests.alerts.conftest import ROUTING_KEY


def worker():
    return start_worker(app, queues=["console"], perform_ping_check=False, shutdown_timeout=30)


def wait_for(counts, timeout=45):
    """Until each receiver holds at least its count of messages."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(len(received()) >= count for received, count in counts):
            return
        time.sleep(0.1)
    raise AssertionError(f"not within {timeout}s: got {[len(received()) for received, _ in counts]}")


def states(**filters):
    return sorted(
        Delivery.objects.filter(**filters).values_list("channel__kind", "action", "status", "attempts")
    )


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_delivers_retries_and_resolves_after_the_trigger(
    settings, make_channel, slack, pagerduty, smtp
):
    settings.ALERTS_RETRY_SECONDS = 1
    make_channel("slack", "Slack", secret=slack.hook)
    make_channel("pagerduty", "PagerDuty", secret=ROUTING_KEY)
    make_channel("email", "Email", config={"addresses": ["oncall@candlefish.example"]})
    slack.respond(503, "service_unavailable")  # the first try fails; the retry gets through

    with worker():
        alert = raise_alert(
            events.ROTATION_RETRIES_EXHAUSTED, key="rotation:demo", subject="Rotation gave up"
        )
        wait_for([(lambda: slack.requests, 2), (lambda: pagerduty.requests, 1), (lambda: smtp.messages, 1)])
    assert states() == [
        ("email", "trigger", "sent", 1),
        ("pagerduty", "trigger", "sent", 1),
        ("slack", "trigger", "sent", 2),
    ]

    resolve_alert(alert.key)  # queued after commit; the next worker picks it up
    with worker():
        wait_for([(lambda: slack.requests, 3), (lambda: pagerduty.requests, 2), (lambda: smtp.messages, 2)])
    assert states(action="resolve") == [
        ("email", "resolve", "sent", 1),
        ("pagerduty", "resolve", "sent", 1),
        ("slack", "resolve", "sent", 1),
    ]
    assert [r.json["event_action"] for r in pagerduty.requests] == ["trigger", "resolve"]
    assert Alert.objects.get().state == "resolved"


@pytest.mark.django_db(transaction=True)
def test_the_reconciler_resends_a_delivery_whose_task_message_was_lost(make_channel, pagerduty):
    channel = make_channel("pagerduty", secret=ROUTING_KEY)
    now = timezone.now()
    alert = Alert.objects.create(
        event=events.BACKEND_UNAVAILABLE, key="backend.unavailable:aws", severity="critical",
        subject="aws unreachable", opened_at=now, last_raised_at=now,
    )  # fmt: skip
    # As if the broker lost the message (a Redis restart): the row says "pending", no task exists.
    lost = Delivery.objects.create(
        alert=alert, channel=channel, severity="critical", next_attempt_at=now - timedelta(minutes=5)
    )

    with worker():
        assert reconcile.apply_async(queue="console").get(timeout=30) == 1
        wait_for([(lambda: pagerduty.requests, 1)])

    lost.refresh_from_db()
    assert (lost.status, lost.attempts) == ("sent", 1)
    assert [r.json["dedup_key"] for r in pagerduty.requests] == ["candlefish/backend.unavailable:aws"]
