"""De-duplication in front of the ledger's alert hooks, services.raise_chain_alert() and
services.clear_chain_alert().

A break found by every 30-second anchor run, or an anchor that stays stale, would otherwise
alert twice a minute. `alert()` lets one alarm through per episode (a break's fingerprint, the
stale anchor it is stale since, the entry that waits) and again after `every` seconds while the
episode lasts; `clear()` tells the hook once that an alarm of that kind is over. The marks live
in the cache (Redis); if the cache is down, the alarm goes out (better twice than never).
"""

import hashlib
import logging

from django.core.cache import cache

from secrets_admin.audit import chain

log = logging.getLogger(__name__)
KEY_PREFIX = "audit:alert:"


def alert(kind: str, problem: str, *, episode: str, outcome: chain.Outcome | None = None, every: int = 3600):
    """Hand `outcome` (or a new Outcome of `kind` with `problem`) to raise_chain_alert(), unless
    the same episode of `kind` already alerted less than `every` seconds ago. Never raises."""
    from secrets_admin.audit import services

    key = KEY_PREFIX + kind + ":" + hashlib.sha256(episode.encode()).hexdigest()[:32]
    try:
        first = cache.add(key, 1, timeout=every)
    except Exception as exc:  # the cache is down: better twice than never
        log.warning("alert de-duplication unavailable (%s); alerting anyway", exc)
        first = True
    if not first:
        return
    if outcome is None:
        outcome = chain.Outcome(ok=False, kind=kind, problem=problem)
    try:
        cache.set(KEY_PREFIX + "raised:" + _category(kind), 1, timeout=None)
    except Exception as exc:  # clear() will then call the hook unasked, which it tolerates
        log.warning("alert mark not kept (%s)", exc)
    try:
        services.raise_chain_alert(outcome)
    except Exception:  # the hook must not raise; if it does, the ledger work still goes on
        log.exception("the chain alert hook failed")


def _category(kind: str) -> str:
    """ "anchor_stale", "unlinked", or "break" for every kind of break."""
    return kind if kind in ("anchor_stale", "unlinked") else "break"


def clear(kind: str) -> None:
    """Tell clear_chain_alert() that alarms of `kind` are over, once after they were raised."""
    from secrets_admin.audit import services

    try:
        raised = cache.delete(KEY_PREFIX + "raised:" + kind)
    except Exception:
        raised = True
    if raised:
        try:
            services.clear_chain_alert(kind)
        except Exception:
            log.exception("the chain alert clearing hook failed")
