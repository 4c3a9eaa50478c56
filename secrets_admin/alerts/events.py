"""The events the console alerts on: name -> severity and meaning.

Callers name an event and the alerts app does the rest (routing, dedup, delivery). An event's
severity is its default; a caller may raise it with another one (a missed rotation turns
critical after its grace period, a certificate within 7 days of expiry is critical).
"""

from dataclasses import dataclass

from django.db import models


class Severity(models.TextChoices):
    """Ordered: routing and escalation compare ranks."""

    INFO = "info", "Info"
    WARNING = "warning", "Warning"
    CRITICAL = "critical", "Critical"


RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}


def rank(severity: str) -> int:
    return RANK[Severity(severity)]


@dataclass(frozen=True)
class Event:
    name: str
    severity: str  # the default
    title: str  # what happened, in words (pages, emails)
    audited: bool = True  # False only where the ledger itself is what failed


EVENTS: dict[str, Event] = {}


def define(name: str, severity: str, title: str, *, audited: bool = True) -> str:
    if name in EVENTS and EVENTS[name] != Event(name, severity, title, audited):
        raise ValueError(f"alert event {name!r} is already defined differently")
    EVENTS[name] = Event(name, Severity(severity).value, title, audited)
    return name


def get(name: str) -> Event:
    try:
        return EVENTS[name]
    except KeyError:
        raise ValueError(f"unknown alert event {name!r} (secrets_admin/alerts/events.py)") from None


def lookup(name: str) -> Event:
    """The definition of a stored alert's event; a stand-in for names no longer defined."""
    return EVENTS.get(name) or Event(name, Severity.WARNING, name)


# Rotation engine (raised by it; defined here so it only calls the API).
ROTATION_FAILED = define("rotation.failed", Severity.WARNING, "A rotation run failed")
ROTATION_RETRIES_EXHAUSTED = define(
    "rotation.retries_exhausted", Severity.CRITICAL, "A rotation used up its retries and needs a person"
)
ROTATION_MISSED = define(
    "rotation.missed", Severity.WARNING, "A due secret has not rotated (critical after its grace period)"
)
# Inventory and backends (raised by this app's beat tasks).
CERTIFICATE_EXPIRING = define(
    "certificate.expiring", Severity.WARNING, "A certificate expires soon (critical within 7 days)"
)
BACKEND_UNAVAILABLE = define(
    "backend.unavailable", Severity.CRITICAL, "A secret backend is unreachable or sealed"
)
# The audit ledger. Not audited: a broken chain cannot vouch for a new entry.
AUDIT_CHAIN_BROKEN = define(
    "audit.chain_broken", Severity.CRITICAL, "The audit chain is broken", audited=False
)
AUDIT_ANCHOR_STALE = define(
    "audit.anchor_stale", Severity.CRITICAL, "The audit chain's outside anchor is stale", audited=False
)
AUDIT_UNLINKED = define(
    "audit.unlinked", Severity.CRITICAL, "Audit entries wait too long for the sequencer", audited=False
)
# Break-glass and access requests (raised by the breakglass app).
BREAKGLASS_REQUESTED = define(
    "breakglass.requested", Severity.WARNING, "Someone asks for access: approvers are needed"
)
BREAKGLASS_ACTIVATED = define(
    "breakglass.activated", Severity.CRITICAL, "Break-glass access was granted and is active"
)
BREAKGLASS_DECIDED = define("breakglass.decided", Severity.INFO, "An access request was decided")
BREAKGLASS_REVIEW_OVERDUE = define(
    "breakglass.review_overdue", Severity.WARNING, "A break-glass review is not signed off in time"
)
BREAKGLASS_REVOKE_FAILED = define(
    "breakglass.revoke_failed", Severity.CRITICAL, "An expired grant's token could not be revoked"
)
# The alerting itself.
CHANNEL_DISABLED = define(
    "alerts.channel_disabled", Severity.WARNING, "An alert channel was disabled after a permanent error"
)
TEST = define("alerts.test", Severity.INFO, "Test alert")
