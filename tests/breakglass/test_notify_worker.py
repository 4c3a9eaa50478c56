"""Notifications on a real Celery worker (the session's broker, never eager mode): a new request
and a break-glass activation reach Slack and PagerDuty (critical) through the alert channels,
with a deep link and never a token or a value."""

import json
import time

import pytest
import redis
from celery.contrib.testing.worker import start_worker

from breakglass.models import Grant
from breakglass.services import approve
from console.celery import app
from secrets_admin.alerts.events import Severity
from tests.alerts.conftest import ROUTING_KEY, make_channel, no_channels, pagerduty, slack  # noqa: F401
from tests.markers import requires_postgres

# The worker's thread writes while the test reads: SQLite's in-memory test database refuses that.
pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]


def drop_stale_messages(url: str) -> None:
    """Break-glass messages queued by earlier tests that ran without a worker."""
    broker = redis.Redis.from_url(url)
    for item in broker.lrange("console", 0, -1):
        if json.loads(item).get("headers", {}).get("task", "").startswith(("breakglass.", "alerts.")):
            broker.lrem("console", 1, item)


def wait_for(check, timeout=45):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"not within {timeout}s")


def test_a_request_reaches_slack_and_activation_pages_pagerduty(
    ask,
    secret_at,
    carol,
    erin,
    servers,
    make_channel,  # noqa: F811 (fixtures from the alerts tests)
    slack,  # noqa: F811
    pagerduty,  # noqa: F811
):
    drop_stale_messages(servers.redis_url)
    make_channel("slack", "Slack", secret=slack.hook)
    make_channel("pagerduty", "PagerDuty", secret=ROUTING_KEY, severities=[Severity.CRITICAL])
    with start_worker(app, queues=["console"], perform_ping_check=False, shutdown_timeout=30):
        access = ask(secret_at("notify/db"))
        wait_for(lambda: len(slack.requests) >= 1)
        assert not pagerduty.requests  # a request is a warning: Slack and mail, no page
        asked = json.dumps(slack.requests[0].json)
        assert f"/access/{access.pk}/" in asked and "approve or deny in the console" in asked
        approve.do_approve(access.pk, actor=carol.user, code=carol.code())
        approve.do_approve(access.pk, actor=erin.user, code=erin.code())
        grant = Grant.objects.get(request=access)
        wait_for(lambda: len(pagerduty.requests) >= 1)
    assert grant.state == "active"
    paged = [r.json for r in pagerduty.requests]
    assert [p["event_action"] for p in paged] == ["trigger"]
    assert paged[0]["payload"]["severity"] == "critical"
    assert "Break-glass active" in paged[0]["payload"]["summary"]
    assert f"/access/grants/{grant.pk}/" in json.dumps(paged)
