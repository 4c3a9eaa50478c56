"""PagerDuty Events API v2 through the alerts HTTP helper, to a local receiver standing in for
events.pagerduty.com (settings.PAGERDUTY_EVENTS_URL)."""

import pytest

from secrets_admin.alerts import events
from secrets_admin.alerts.services import raise_alert, resolve_alert
from secrets_admin.alerts.transports.pagerduty import PagerDutyTransport, dedup_key
from tests.alerts.conftest import ROUTING_KEY, deliver_due
from tests.alerts.contract import ChannelContract


class TestPagerDutyChannel(ChannelContract):
    permanent_reason = "400"

    @pytest.fixture
    def receiver(self, pagerduty):
        return pagerduty

    @pytest.fixture
    def channel(self, make_channel, pagerduty):
        return make_channel("pagerduty", "On-call", secret=ROUTING_KEY)

    def texts(self, receiver):
        return [request.body.decode() for request in receiver.requests]

    def refuse_temporarily(self, receiver, times):
        receiver.respond(500, '{"status":"error"}', times=times)

    def refuse_permanently(self, receiver):
        receiver.respond(400, '{"status":"invalid event","message":"Event object is invalid"}')


@pytest.mark.django_db
def test_trigger_and_resolve_share_one_dedup_key_per_secret_and_condition(
    make_channel, pagerduty, canary_secret
):
    secret, _ = canary_secret
    make_channel("pagerduty", secret=ROUTING_KEY, severities=["critical"])
    alert = raise_alert(
        events.ROTATION_RETRIES_EXHAUSTED, target=secret, subject="Rotation gave up", facts={"attempts": 5}
    )
    raise_alert(
        events.ROTATION_RETRIES_EXHAUSTED, target=secret, subject="Rotation gave up", facts={"attempts": 5}
    )
    other = raise_alert(events.ROTATION_MISSED, target=secret, subject="Missed", severity="critical")
    deliver_due()
    resolve_alert(alert.key)
    deliver_due()

    assert [r.path for r in pagerduty.requests] == ["/v2/enqueue"] * 3
    trigger, missed, resolve = (r.json for r in pagerduty.requests)
    assert alert.key == f"rotation.retries_exhausted:inventory.secret:{secret.pk}"
    assert trigger["dedup_key"] == resolve["dedup_key"] == f"candlefish/{alert.key}"
    assert missed["dedup_key"] == f"candlefish/{other.key}" != trigger["dedup_key"]
    assert trigger["routing_key"] == resolve["routing_key"] == ROUTING_KEY
    assert trigger["event_action"] == "trigger" and resolve == {
        "routing_key": ROUTING_KEY,
        "event_action": "resolve",
        "dedup_key": trigger["dedup_key"],
    }
    payload = trigger["payload"]
    assert payload["summary"] == "[CRITICAL] Rotation gave up"
    assert (payload["severity"], payload["source"], payload["class"]) == (
        "critical",
        "candlefish-console",
        "rotation.retries_exhausted",
    )
    assert payload["component"] == str(secret)
    assert payload["custom_details"]["attempts"] == 5
    assert trigger["links"][0]["href"].endswith(f"/alerts/{alert.pk}/")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "permanent"), [(400, True), (403, True), (404, True), (429, False), (502, False)]
)
def test_pagerduty_refusals_are_permanent_and_outages_temporary(make_channel, pagerduty, status, permanent):
    channel = make_channel("pagerduty", secret=ROUTING_KEY)
    pagerduty.respond(status, '{"status":"x"}')
    raise_alert(events.BACKEND_UNAVAILABLE, key="backend.unavailable:vault", subject="vault is sealed")
    (outcome,) = deliver_due()
    channel.refresh_from_db()
    assert outcome.status == ("failed" if permanent else "retrying")
    assert channel.enabled is not permanent


def test_long_condition_keys_become_a_stable_hash_within_pagerdutys_limit():
    key = "rotation.failed:" + "x" * 300
    assert len(dedup_key(key)) <= 255 and dedup_key(key) == dedup_key(key) != dedup_key(key + "y")
    assert dedup_key("backend.unavailable:vault") == "candlefish/backend.unavailable:vault"


def test_routing_keys_are_checked_and_hinted_by_their_last_four():
    from django.core.exceptions import ValidationError

    assert PagerDutyTransport.clean_secret(f" {ROUTING_KEY} ") == ROUTING_KEY
    for bad in ("short", "has spaces in it 0000000000000", "x" * 65):
        with pytest.raises(ValidationError):
            PagerDutyTransport.clean_secret(bad)
    assert PagerDutyTransport.hint(ROUTING_KEY) == "…0001"
