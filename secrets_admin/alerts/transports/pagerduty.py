"""PagerDuty Events API v2: `trigger` with a dedup_key per condition, `resolve` when it clears.

The events URL comes from settings.PAGERDUTY_EVENTS_URL (tests point it at a local receiver;
the `pagerduty` package accepts only https, so this goes through the alerts HTTP helper).
PagerDuty answers 202; 400 (invalid event, bad routing key) and other 4xx are permanent,
429 and 5xx temporary.
"""

import hashlib

from django.conf import settings
from django.core.exceptions import ValidationError

from secrets_admin.alerts import http
from secrets_admin.alerts.events import Severity
from secrets_admin.alerts.transports.base import TRIGGER, DeliveryError, Notification, Transport

SOURCE = "candlefish-console"


def dedup_key(key: str) -> str:
    """PagerDuty allows 255 characters; long condition keys are hashed (stable per condition)."""
    value = f"candlefish/{key}"
    return value if len(value) <= 255 else "candlefish/sha256:" + hashlib.sha256(key.encode()).hexdigest()


class PagerDutyTransport(Transport):
    label = "PagerDuty"
    secret_label = "Routing key"
    secret_help = "The integration key of an Events API v2 integration on the PagerDuty service."
    default_severities = (Severity.CRITICAL,)

    def send(self, notification: Notification) -> None:
        response = http.post_json(settings.PAGERDUTY_EVENTS_URL, event(notification, self.secret), timeout=10)
        if 200 <= response.status < 300:
            return
        status = response.status
        raise DeliveryError(
            f"PagerDuty answered {status} {response.text.strip()[:200] or 'no body'}",
            permanent=400 <= status < 500 and status != 429,
        )

    @classmethod
    def clean_secret(cls, value: str) -> str:
        value = value.strip()
        if not (20 <= len(value) <= 64) or not value.isalnum():
            raise ValidationError("A routing key is 32 letters and digits (20 to 64 accepted).")
        return value


def event(n: Notification, routing_key: str) -> dict:
    body = {"routing_key": routing_key, "event_action": n.action, "dedup_key": dedup_key(n.key)}
    if n.action != TRIGGER:
        return body
    details = {"event": n.event, "what": n.title, **n.facts}
    if n.target:
        details["about"] = n.target
    body.update(
        payload={
            "summary": n.headline[:1024],
            "source": SOURCE,
            "severity": n.severity,  # info | warning | critical are PagerDuty severities too
            "timestamp": n.opened_at.isoformat(),
            "component": n.target[:255] if n.target else "console",
            "group": n.event.split(".")[0],
            "class": n.event,
            "custom_details": details,
        },
        client="Candlefish Secrets Console",
        client_url=n.url,
        links=[{"href": n.url, "text": "Open in Candlefish"}],
    )
    return body
