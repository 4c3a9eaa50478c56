"""What the audit ledger calls when its checks fail or pass again (its `raise_chain_alert()`
hook connects here). These alerts are critical and never audited: a broken chain cannot vouch
for a new entry. None of these functions raises: a failing alert must not fail the check."""

import logging

from secrets_admin.alerts import events
from secrets_admin.alerts.services import raise_alert, resolve_alert

log = logging.getLogger(__name__)
CHAIN_KEY = "audit.chain_broken"
ANCHOR_KEY = "audit.anchor_stale"
UNLINKED_KEY = "audit.unlinked"


def chain_broken(outcome) -> None:
    """`outcome` carries `broken_at`, `problem` and, when known, `expected` and `found` hashes."""
    broken_at = getattr(outcome, "broken_at", None)
    facts = {
        "broken_at": broken_at,
        "problem": str(getattr(outcome, "problem", ""))[:300],
        "expected": str(getattr(outcome, "expected", "") or ""),
        "found": str(getattr(outcome, "found", "") or ""),
    }
    _safely(raise_alert, events.AUDIT_CHAIN_BROKEN, key=CHAIN_KEY, facts=facts,
            subject=f"The audit chain is broken at entry #{broken_at}: {facts['problem']}")  # fmt: skip


def chain_intact() -> None:
    """A full verification passed again (e.g. after a restore): close the alert."""
    _safely(resolve_alert, CHAIN_KEY)


def anchor_stale(*, age_seconds: float | None, where: str = "") -> None:
    """The chain head's outside anchor is older than it may be (`age_seconds` None: never written)."""
    if age_seconds is None:
        subject = "The audit chain has never been anchored outside the database"
    else:
        subject = f"The audit chain's anchor is {int(age_seconds // 60)} minutes old"
    age = None if age_seconds is None else int(age_seconds)
    _safely(raise_alert, events.AUDIT_ANCHOR_STALE, key=ANCHOR_KEY, subject=subject,
            facts={"age_seconds": age, "where": where[:200]})  # fmt: skip


def anchor_fresh() -> None:
    _safely(resolve_alert, ANCHOR_KEY)


def entries_unlinked(*, pending: int, oldest_seconds: float) -> None:
    """Committed entries have waited longer than they may for the sequencer to chain them."""
    _safely(raise_alert, events.AUDIT_UNLINKED, key=UNLINKED_KEY,
            subject=f"{pending} audit entries have waited {int(oldest_seconds)} s for the sequencer",
            facts={"pending": int(pending), "oldest_seconds": int(oldest_seconds)})  # fmt: skip


def entries_linked() -> None:
    _safely(resolve_alert, UNLINKED_KEY)


def _safely(function, *args, **kwargs):
    try:
        function(*args, **kwargs)
    except Exception:  # the caller's check must finish; the CRITICAL log line still stands
        log.exception("could not record the audit alert %s", args[0])
