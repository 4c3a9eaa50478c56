"""Slack through an incoming webhook (slack_sdk's WebhookClient).

Slack answers 200 "ok", or an HTTP error with a short code in the body: 404 `no_service` or
403 `invalid_token` for a revoked webhook, 410 `channel_is_archived`, 400 `invalid_payload`...
Every 4xx except 429 is permanent; 429, 5xx and network errors are temporary.
"""

import logging

from secrets_admin.alerts.events import Severity
from secrets_admin.alerts.transports.base import (
    RESOLVE,
    DeliveryError,
    Notification,
    Transport,
    clean_webhook_url,
    url_hint,
)

# slack_sdk logs the webhook URL (a credential) at DEBUG: give it a logger that never does.
_quiet = logging.getLogger("secrets_admin.alerts.slack_sdk")
_quiet.setLevel(logging.WARNING)

EMOJI = {
    Severity.INFO: ":information_source:",
    Severity.WARNING: ":warning:",
    Severity.CRITICAL: ":rotating_light:",
}


class SlackTransport(Transport):
    label = "Slack"
    secret_label = "Webhook URL"
    secret_help = "The incoming webhook URL from Slack (https://hooks.slack.com/services/…)."
    default_severities = (Severity.WARNING, Severity.CRITICAL)

    def send(self, notification: Notification) -> None:
        from slack_sdk.errors import SlackRequestError
        from slack_sdk.webhook import WebhookClient

        # We retry ourselves (recorded, with back-off): no hidden retries inside the SDK.
        client = WebhookClient(url=self.secret, timeout=10, logger=_quiet, retry_handlers=[])
        try:
            response = client.send(text=notification.headline, blocks=blocks(notification))
        except SlackRequestError as exc:
            raise DeliveryError(f"Slack refused the request: {exc}", permanent=True) from None
        except (OSError, ValueError) as exc:  # URLError, timeouts, refused connections
            raise DeliveryError(f"could not reach Slack: {type(exc).__name__}", permanent=False) from None
        if response.status_code == 200:
            return
        code = (response.body or "").strip()[:100] or "no body"
        status = response.status_code
        raise DeliveryError(
            f"Slack answered {status} {code}", permanent=400 <= status < 500 and status != 429
        )

    @classmethod
    def clean_secret(cls, value: str) -> str:
        return clean_webhook_url(value, label="webhook URL")

    @classmethod
    def hint(cls, secret: str) -> str:
        return url_hint(secret)


def blocks(n: Notification) -> list[dict]:
    """Slack Block Kit: the headline, the facts as fields, and a link to the console."""
    emoji = ":white_check_mark:" if n.action == RESOLVE else EMOJI.get(n.severity, "")
    fields = [
        {"type": "mrkdwn", "text": f"*Event*\n{n.title}"},
        {"type": "mrkdwn", "text": f"*Severity*\n{n.severity}"},
    ]
    if n.target:
        fields.append({"type": "mrkdwn", "text": f"*About*\n{_escape(n.target)}"})
    for name, value in list(n.facts.items())[:7]:  # Slack allows 10 fields per section
        fields.append({"type": "mrkdwn", "text": f"*{_escape(str(name))}*\n{_escape(str(value))[:200]}"})
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"{emoji} *{_escape(n.headline)}*"}},
        {"type": "section", "fields": fields},
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": f"<{n.url}|Open in Candlefish> · {n.key}"}],
        },
    ]


def _escape(text: str) -> str:
    # Slack mrkdwn treats &, < and > as control characters.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
