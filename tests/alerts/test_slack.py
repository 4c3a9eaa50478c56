"""Slack alerts through slack_sdk's WebhookClient to a local HTTP receiver."""

import pytest

from secrets_admin.alerts.transports.slack import SlackTransport
from tests.alerts.conftest import SLACK_HOOK_PATH, deliver_due
from tests.alerts.contract import SUBJECT, ChannelContract, raise_failed


class TestSlackChannel(ChannelContract):
    permanent_reason = "404 no_service"

    @pytest.fixture
    def receiver(self, slack):
        return slack

    @pytest.fixture
    def channel(self, make_channel, slack):
        return make_channel("slack", "Security Slack", secret=slack.hook)

    def texts(self, receiver):
        return [request.body.decode() for request in receiver.requests]

    def refuse_temporarily(self, receiver, times):
        receiver.respond(503, "service_unavailable", times=times)

    def refuse_permanently(self, receiver):
        receiver.respond(404, "no_service")


@pytest.mark.django_db
def test_the_slack_payload_is_a_headline_with_facts_and_a_link(make_channel, slack):
    make_channel("slack", secret=slack.hook)
    alert = raise_failed(severity="critical")
    deliver_due()

    (request,) = slack.requests
    assert request.path == SLACK_HOOK_PATH and request.headers["Content-Type"].startswith("application/json")
    body = request.json
    assert body["text"] == f"[CRITICAL] {SUBJECT}"
    header, facts, context = body["blocks"]
    assert header["text"]["text"] == f":rotating_light: *[CRITICAL] {SUBJECT}*"
    assert {"type": "mrkdwn", "text": "*step*\ntest"} in facts["fields"]
    assert f"/alerts/{alert.pk}/|Open in Candlefish>" in context["elements"][0]["text"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "body", "permanent"),
    [
        (404, "no_service", True),  # the webhook was removed
        (403, "invalid_token", True),  # revoked
        (410, "channel_is_archived", True),
        (400, "invalid_payload", True),
        (429, "rate_limited", False),
        (500, "internal_error", False),
    ],
)
def test_slack_refusals_are_permanent_and_outages_temporary(make_channel, slack, status, body, permanent):
    channel = make_channel("slack", secret=slack.hook)
    slack.respond(status, body)
    raise_failed()
    (outcome,) = deliver_due()
    channel.refresh_from_db()
    assert outcome.status == ("failed" if permanent else "retrying")
    assert f"Slack answered {status} {body}" in outcome.error
    assert channel.enabled is not permanent


@pytest.mark.django_db
def test_a_slack_error_never_shows_the_webhook_url(make_channel, slack):
    from console.stack.servers import free_port

    hook = f"http://127.0.0.1:{free_port()}{SLACK_HOOK_PATH}"  # nobody listens
    channel = make_channel("slack", secret=hook)
    raise_failed()
    (outcome,) = deliver_due()
    assert outcome.status == "retrying" and "could not reach Slack" in outcome.error
    assert SLACK_HOOK_PATH not in outcome.error and "XXXX" not in channel.deliveries.get().last_error


def test_webhook_urls_must_be_https_except_to_this_machine():
    from django.core.exceptions import ValidationError

    assert (
        SlackTransport.clean_secret(" https://hooks.slack.com/services/T/B/x ")
        == "https://hooks.slack.com/services/T/B/x"
    )
    assert SlackTransport.clean_secret("http://127.0.0.1:9/hook") == "http://127.0.0.1:9/hook"
    for bad in ("http://hooks.slack.com/services/T/B/x", "hooks.slack.com/x", "ftp://x/y", ""):
        with pytest.raises(ValidationError):
            SlackTransport.clean_secret(bad)
    assert (
        SlackTransport.hint("https://hooks.slack.com/services/T000/B000/abcdWXYZ") == "hooks.slack.com …WXYZ"
    )
