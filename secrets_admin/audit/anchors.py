"""Anchors: the chain head (sequence and hash) written outside the database.

AUDIT_ANCHOR names the store, "<backend>:<kv-v2 mount>/<path>" (default
"vault:audit-anchors/candlefish"): every anchor is a new version of one KV v2 secret in
OpenBao, whose own audit device records each write, and which the console's policy may write
and read but never delete. Someone who can rewrite the database cannot rewrite the anchor, so
`verification.verify()` catches a rewritten chain (the anchored entry's hash changed) and cut
entries (the chain ends before the anchored sequence).

Anchors are written after a verification found the chain intact: beat's `audit.anchor` every
AUDIT_ANCHOR_INTERVAL seconds (30), and every full verification. A failed write is retried,
recorded as a failed AuditAnchor row, and once the last good anchor is older than
AUDIT_ANCHOR_STALE_AFTER seconds (60) the page, /readyz and the chain alert say it is stale.
"""

import logging
import time
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from secrets_admin.audit import alerting, chain
from secrets_admin.audit.models import AuditAnchor
from secrets_admin.backends import BackendError, get_backend

log = logging.getLogger(__name__)


class AnchorUnavailable(Exception):
    """The anchor store could not be read (down, sealed, denied); the message says why."""


@dataclass(frozen=True)
class Anchor:
    sequence: int
    hash: str
    written_at: str
    version: int


@dataclass
class AnchorStatus:
    configured: bool
    last: AuditAnchor | None  # the newest anchor written
    failure: AuditAnchor | None  # the newest failed attempt since then
    age_seconds: float | None

    @property
    def stale(self) -> bool:
        if not self.configured:
            return False
        return self.last is None or self.age_seconds > settings.AUDIT_ANCHOR_STALE_AFTER


def store() -> tuple[str, str] | None:
    """(backend name, path) from AUDIT_ANCHOR, or None when anchoring is off."""
    value = settings.AUDIT_ANCHOR
    if not value:
        return None
    backend, _, path = value.partition(":")
    return backend, path


def latest() -> Anchor | None:
    """The newest anchor in the store; None when none was ever written (or anchoring is off).
    Raises AnchorUnavailable when the store cannot be read."""
    where = store()
    if where is None:
        return None
    try:
        found = get_backend(where[0]).read_anchor(where[1])
    except BackendError as exc:
        raise AnchorUnavailable(str(exc)) from None
    if found is None:
        return None
    document, version = found
    try:
        return Anchor(
            int(document["sequence"]), str(document["hash"]), str(document.get("written_at", "")), version
        )
    except (KeyError, TypeError, ValueError):
        raise AnchorUnavailable(f"the anchor at {settings.AUDIT_ANCHOR} (v{version}) is malformed") from None


def write(
    sequence: int, digest: str, *, reason: str, tries: int = 3, pause: float = 2.0
) -> AuditAnchor | None:
    """Write the head to the store (outside any transaction), retrying `tries` times with a
    growing pause; record the attempt as an AuditAnchor row and return it (None when anchoring
    is off). Never raises for a store that is down: the failed row and staleness say so."""
    where = store()
    if where is None:
        return None
    backend, path = where
    document = {
        "sequence": sequence,
        "hash": digest,
        "written_at": chain.format_time(timezone.now()),
        "reason": reason,
    }
    error = ""
    for attempt in range(tries):
        try:
            version = get_backend(backend).write_anchor(path, document)
        except BackendError as exc:
            error = str(exc)
            log.warning(
                "audit anchor of #%s not written (attempt %d of %d): %s", sequence, attempt + 1, tries, exc
            )
            if exc.permanent or attempt + 1 == tries:
                break
            time.sleep(pause * (attempt + 1))
        else:
            alerting.clear("anchor_stale")
            return AuditAnchor.objects.create(
                ok=True,
                reason=reason,
                sequence=sequence,
                hash=digest,
                store=settings.AUDIT_ANCHOR,
                version=version,
            )
    return AuditAnchor.objects.create(
        ok=False,
        reason=reason,
        sequence=sequence,
        hash=digest,
        store=settings.AUDIT_ANCHOR,
        error=error[:2000],
    )


def status(now: datetime | None = None) -> AnchorStatus:
    """The newest anchor written to the configured store and any failure since."""
    if store() is None:
        return AnchorStatus(False, None, None, None)
    rows = AuditAnchor.objects.filter(store=settings.AUDIT_ANCHOR)
    last = rows.filter(ok=True).order_by("-created_at", "-id").first()
    failures = rows.filter(ok=False)
    if last is not None:
        failures = failures.filter(created_at__gte=last.created_at)
    failure = failures.order_by("-created_at", "-id").first()
    age = ((now or timezone.now()) - last.created_at).total_seconds() if last else None
    return AnchorStatus(True, last, failure, age)


def check_stale() -> AnchorStatus:
    """Raise the chain alert (once per stale episode, again hourly) when the anchor is stale."""
    state = status()
    if state.stale:
        since = (
            f"since {state.last.created_at:%Y-%m-%d %H:%M:%S} UTC (#{state.last.sequence})"
            if state.last
            else "ever"
        )
        why = f"; last attempt: {state.failure.error}" if state.failure else ""
        problem = f"the audit chain head has not been anchored in {settings.AUDIT_ANCHOR} {since}{why}"
        episode = f"{settings.AUDIT_ANCHOR}:{state.last.pk if state.last else 'never'}"
        outcome = chain.Outcome(ok=False, kind="anchor_stale", problem=problem)
        outcome.extra = {"age_seconds": state.age_seconds, "where": settings.AUDIT_ANCHOR}
        alerting.alert("anchor_stale", problem, episode=episode, outcome=outcome)
    return state
