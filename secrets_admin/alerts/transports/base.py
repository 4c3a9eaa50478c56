"""The contract every alert channel follows.

A transport turns one `Notification` into one message on its service and raises `DeliveryError`
when that fails; `permanent=True` means retrying cannot help (a revoked webhook, a refused
routing key), and the channel is then disabled until someone fixes it. A notification is built
from the alert's metadata only (subject, facts, target name): there is nothing secret to leak.
The channel's own secret (webhook URL, routing key) is handed in separately and must never
appear in an error message.
"""

from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError

TRIGGER = "trigger"
RESOLVE = "resolve"


class DeliveryError(Exception):
    """Sending failed. permanent=True: the service refused for good (retrying will not help)."""

    def __init__(self, message: str, *, permanent: bool):
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class Notification:
    action: str  # TRIGGER or RESOLVE
    event: str  # "certificate.expiring"
    title: str  # the event in words
    severity: str  # info | warning | critical
    subject: str  # this occurrence in words
    key: str  # the condition: one open alert per key (PagerDuty's dedup_key derives from it)
    target: str  # what it is about ("vault:secret/payments/stripe"), or ""
    url: str  # the alert's page in the console
    opened_at: datetime
    resolved_at: datetime | None = None
    facts: dict = field(default_factory=dict)  # small JSON-safe metadata, never a value
    test: bool = False
    escalated: bool = False  # a re-send because the severity rose

    @property
    def headline(self) -> str:
        if self.action == RESOLVE:
            return f"Resolved: {self.subject}"
        prefix = "Test alert" if self.test else self.severity.upper()
        return f"[{prefix}] {self.subject}"


class Transport:
    """One channel kind. Subclasses set the class attributes and implement `send`."""

    label = ""
    # The channel's secret (a webhook URL, a routing key): its form label, "" when it has none.
    secret_label = ""
    secret_help = ""
    # Severities a new channel of this kind is routed for (the routing table starts from this).
    default_severities: tuple[str, ...] = ()

    def __init__(self, *, config: dict, secret: str = ""):
        self.config = config
        self.secret = secret

    def send(self, notification: Notification) -> None:
        """Deliver one notification, or raise DeliveryError."""
        raise NotImplementedError

    @classmethod
    def clean_secret(cls, value: str) -> str:
        """The secret as it will be stored, or ValidationError saying what to fix."""
        return value.strip()

    @classmethod
    def hint(cls, secret: str) -> str:
        """What the pages show instead of the secret: its last four characters."""
        return f"…{secret[-4:]}" if len(secret) > 8 else "set"

    @classmethod
    def clean_config(cls, config: dict) -> dict:
        """The non-secret settings as stored, or ValidationError."""
        return {}

    @classmethod
    def describe(cls, config: dict) -> str:
        """A one-line summary of the non-secret settings for the channel list."""
        return ""


LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def clean_webhook_url(value: str, *, label: str) -> str:
    """An https:// URL with a host (plain http only to this machine: local receivers in tests
    and demos); never echoes the URL back, it is a credential."""
    value = value.strip()
    parts = urlsplit(value)
    if not parts.hostname or parts.scheme not in ("https", "http"):
        raise ValidationError(f"Enter the full {label}, starting with https://.")
    if parts.scheme == "http" and parts.hostname not in LOOPBACK:
        raise ValidationError(f"The {label} must use https:// (plain http only to 127.0.0.1).")
    if len(value) > 2000:
        raise ValidationError(f"The {label} is too long (2,000 characters at most).")
    return value


def url_hint(value: str) -> str:
    """Host plus the last four characters: enough to recognise, useless to an attacker."""
    parts = urlsplit(value)
    host = parts.hostname or "?"
    if parts.port:
        host = f"{host}:{parts.port}"
    return f"{host} …{value[-4:]}"
