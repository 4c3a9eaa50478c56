"""The API other code calls: raise_alert / resolve_alert — routing by severity, dedup by
condition key, escalation, transactions, ids-only task messages, and races on PostgreSQL."""

import base64
import json
import threading

import pytest
import redis
from django.db import connection, transaction

from secrets_admin.alerts import events
from secrets_admin.alerts.models import Alert, Delivery
from secrets_admin.alerts.services import alert_key, raise_alert, resolve_alert
from secrets_admin.alerts.services.channels import do_create_channel
from secrets_admin.audit.models import AuditEntry
from tests.accounts.factories import actions, code_at_step
from tests.alerts.conftest import ROUTING_KEY, deliver_due, drain_alert_messages
from tests.markers import requires_postgres

pytestmark = pytest.mark.django_db


def channels_for(alert) -> list[str]:
    return sorted(alert.deliveries.values_list("channel__name", flat=True))


def test_default_routing_email_every_severity_slack_warning_and_up_pagerduty_critical_only(
    security_person, slack, pagerduty
):
    user, device, _ = security_person
    # The data migration's channel (security-team by email, every severity) plus two more,
    # created the way the page does, each routed for its kind's default severities.
    do_create_channel(actor=user, otp=code_at_step(device, -1), kind="slack", name="Slack", secret=slack.hook)
    do_create_channel(
        actor=user, otp=code_at_step(device, 0), kind="pagerduty", name="PD", secret=ROUTING_KEY
    )

    info = raise_alert(events.TEST, key="k-info", subject="info")
    warning = raise_alert(events.ROTATION_FAILED, key="k-warning", subject="warning")
    critical = raise_alert(events.ROTATION_RETRIES_EXHAUSTED, key="k-critical", subject="critical")

    assert channels_for(info) == ["Security team email"]
    assert channels_for(warning) == ["Security team email", "Slack"]
    assert channels_for(critical) == ["PD", "Security team email", "Slack"]


def test_a_lower_severity_never_downgrades_an_open_alert(make_channel):
    make_channel("email", config={"addresses": ["a@candlefish.example"]})
    raise_alert(events.ROTATION_MISSED, key="missed", subject="s", severity="critical")
    alert = raise_alert(events.ROTATION_MISSED, key="missed", subject="s", severity="warning")
    assert alert.severity == "critical" and alert.deliveries.count() == 1 and alert.raise_count == 2


def test_a_condition_that_returns_after_it_cleared_is_a_new_alert(make_channel, pagerduty):
    make_channel("pagerduty", secret=ROUTING_KEY)
    first = raise_alert(events.BACKEND_UNAVAILABLE, key="backend.unavailable:vault", subject="vault down")
    deliver_due()
    resolve_alert(first.key)
    deliver_due()
    second = raise_alert(events.BACKEND_UNAVAILABLE, key="backend.unavailable:vault", subject="vault down")
    deliver_due()

    assert second.pk != first.pk and second.state == "open"
    assert [r.json["event_action"] for r in pagerduty.requests] == ["trigger", "resolve", "trigger"]
    assert len({r.json["dedup_key"] for r in pagerduty.requests}) == 1  # PagerDuty opens a new incident


def test_the_key_defaults_to_the_event_and_its_target(make_channel, canary_secret):
    secret, _ = canary_secret
    alert = raise_alert(events.ROTATION_FAILED, target=secret, subject="failed")
    assert (
        alert.key
        == f"rotation.failed:inventory.secret:{secret.pk}"
        == alert_key(events.ROTATION_FAILED, secret)
    )
    assert (alert.target_type, alert.target_id, alert.target_repr) == (
        "inventory.secret",
        str(secret.pk),
        str(secret),
    )
    assert alert.severity == "warning"  # the event's default


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"event": "rotation.exploded"}, ValueError, "unknown alert event"),
        ({"severity": "apocalyptic"}, ValueError, "not a valid Severity"),
        ({"subject": "  "}, ValueError, "needs a subject"),
        ({"facts": {"run": {"password": "x"}}}, ValueError, "never hold secret values"),
        ({"facts": {"steps": [{"Value": "x"}]}}, ValueError, "never hold secret values"),
        ({"facts": {"when": object()}}, ValueError, "JSON-safe"),
        ({"facts": {"blob": "x" * 5000}}, ValueError, "too large"),
        ({"target": "secret/payments"}, TypeError, "saved model instance"),
    ],
)
def test_bad_calls_are_refused_and_record_nothing(kwargs, error, message):
    call = {"event": events.ROTATION_FAILED, "subject": "s", "key": "k", **kwargs}
    with pytest.raises(error, match=message):
        raise_alert(call.pop("event"), **call)
    assert not Alert.objects.exists()


def test_an_alert_raised_in_a_change_that_rolls_back_leaves_nothing_and_queues_nothing(
    make_channel, django_capture_on_commit_callbacks
):
    make_channel("email", config={"addresses": ["a@candlefish.example"]})
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(RuntimeError):
        with transaction.atomic():
            raise_alert(events.ROTATION_FAILED, key="k", subject="s")
            raise RuntimeError("the change failed")
    assert callbacks == [] and not Alert.objects.exists() and not Delivery.objects.exists()


def test_deliveries_are_queued_after_commit_with_their_ids_only(
    servers, make_channel, canary_secret, django_capture_on_commit_callbacks
):
    make_channel("email", config={"addresses": ["a@candlefish.example"]})
    secret, canary = canary_secret
    broker = redis.Redis.from_url(servers.redis_url)
    before = broker.llen("console")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        alert = raise_alert(events.ROTATION_FAILED, target=secret, subject=f"{secret.path} failed")
    (delivery,) = alert.deliveries.all()
    assert len(callbacks) == 1  # one delivery task queued after commit
    raw = broker.lrange("console", 0, broker.llen("console") - before - 1)
    try:
        (message,) = [json.loads(m) for m in raw if json.loads(m)["headers"]["task"] == "alerts.deliver"]
        args, kwargs, _ = json.loads(base64.b64decode(message["body"]))
        assert (args, kwargs) == ([delivery.pk], {})
        assert canary.encode() not in b"".join(raw) and secret.path.encode() not in b"".join(raw)
    finally:
        for item in raw:  # no worker runs in this test: take our messages back off the queue
            broker.lrem("console", 1, item)


def test_unaudited_events_write_nothing_to_the_ledger(make_channel, smtp):
    # A broken audit chain cannot vouch for a new entry: its alert must not append one.
    make_channel("email", config={"addresses": ["a@candlefish.example"]})
    before = AuditEntry.objects.count()
    alert = raise_alert(events.AUDIT_CHAIN_BROKEN, key="audit.chain_broken", subject="chain broken at #42")
    deliver_due()
    resolve_alert(alert.key)
    deliver_due()
    assert AuditEntry.objects.count() == before
    assert list(alert.deliveries.values_list("status", flat=True)) == ["sent", "sent"]


def test_raising_and_resolving_are_audited_with_the_condition(make_channel):
    alert = raise_alert(events.ROTATION_FAILED, key="k", subject="s", actor="celery:rotation")
    resolve_alert("k", actor="celery:rotation")
    entries = AuditEntry.objects.filter(target_type="alerts.alert", target_id=str(alert.pk)).order_by("id")
    assert [(e.action, e.actor_name, e.data["key"]) for e in entries] == [
        ("alerts.alert.raised", "celery:rotation", "k"),
        ("alerts.alert.resolved", "celery:rotation", "k"),
    ]
    assert actions(action="alerts.alert.raised") == ["alerts.alert.raised"]


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_eight_threads_raising_one_condition_open_one_alert_and_send_once(make_channel, servers):
    make_channel("email", config={"addresses": ["a@candlefish.example"]})
    barrier = threading.Barrier(8)
    errors = []

    def raise_it():
        try:
            barrier.wait(10)
            raise_alert(events.BACKEND_UNAVAILABLE, key="backend.unavailable:vault", subject="vault sealed")
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=raise_it) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    queued = drain_alert_messages(servers.redis_url)  # committed, so queued; no worker runs here

    assert errors == []
    (alert,) = Alert.objects.all()
    assert queued.count(alert.deliveries.get().pk) == 1
    assert alert.raise_count == 8 and alert.deliveries.count() == 1
    assert actions(action="alerts.alert.raised") == ["alerts.alert.raised"]
