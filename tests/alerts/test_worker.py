"""The delivery path end to end on a real Celery worker (the session's real broker, never eager
mode): raise after commit -> task -> transport -> local receivers; a retry after a temporary
error; resolve only after trigger; and the reconciler re-sending what lost its message."""

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


def wait_until(check, timeout=45):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    states = list(Delivery.objects.values_list("channel__kind", "action", "status", "last_error"))
    raise AssertionError(f"not within {timeout}s: {states}")


def all_sent(**filters):
    deliveries = Delivery.objects.filter(**filters)
    return deliveries.exists() and not deliveries.exclude(status="sent").exists()


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_delivers_retries_and_resolves_after_the_trigger(
    settings, make_channel, slack, pagerduty, smtp
):
    settings.ALERTS_RETRY_SECONDS = 1
    make_channel("slack", "Slack", secret=slack.hook)
    make_channel("pagerduty", "PagerDuty", secret=ROUTING_KEY)
    make_channel("email", "Email", config={"addresses": ["oncall@candlefish.example"]})
    slack.respond(503, "service_unavailable")  # the first try fails; the retry gets through

    with start_worker(app, queues=["console"], perform_ping_check=False, shutdown_timeout=30):
        alert = raise_alert(
            events.ROTATION_RETRIES_EXHAUSTED, key="rotation:demo", subject="Rotation gave up"
        )
        wait_until(lambda: all_sent(alert=alert))
        resolve_alert(alert.key)
        wait_until(lambda: all_sent(alert=alert, action="resolve") and Delivery.objects.count() == 6)

    slack_trigger = Delivery.objects.get(channel__kind="slack", action="trigger")
    assert slack_trigger.attempts == 2 and slack_trigger.status == "sent"
    assert [r.json["event_action"] for r in pagerduty.requests] == ["trigger", "resolve"]
    assert len(slack.requests) == 3 and len(smtp.messages) == 2
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

    with start_worker(app, queues=["console"], perform_ping_check=False, shutdown_timeout=30):
        assert reconcile.apply_async(queue="console").get(timeout=30) == 1
        wait_until(lambda: all_sent(pk=lost.pk))

    assert [r.json["dedup_key"] for r in pagerduty.requests] == ["candlefish/backend.unavailable:aws"]
