"""Alert channel kinds: name -> transport class (dotted path, imported when first used).

`Channel.kind` choices derive from this dict, so a new kind is one module plus one line here.
"""

from django.utils.module_loading import import_string

TRANSPORTS = {
    "email": "secrets_admin.alerts.transports.email.EmailTransport",
    "slack": "secrets_admin.alerts.transports.slack.SlackTransport",
    "pagerduty": "secrets_admin.alerts.transports.pagerduty.PagerDutyTransport",
}


def kind_choices() -> list[tuple[str, str]]:
    """[("email", "Email"), ("slack", "Slack"), ("pagerduty", "PagerDuty")] without importing."""
    return [(name, path.rsplit(".", 1)[1].removesuffix("Transport")) for name, path in TRANSPORTS.items()]


def transport_class(kind: str):
    try:
        return import_string(TRANSPORTS[kind])
    except KeyError:
        raise ValueError(f"unknown alert channel kind {kind!r}") from None
