"""Keeping the live set current off the announcing process.

A service that moves the tiles (a rotation run ending, the approvals queue changing, a grant's
session changing, a sync finishing) calls `dashboard.live.changed(reason)` after commit. That only
marks, in Redis, which *parts* of the live set the event moves (an approval moves the access tile,
not the 100k-secret age histogram) and queues the Celery task `dashboard.live_refresh` unless one
is queued already: the web request or worker that announced the event pays two Redis round trips.

The task recomputes the marked parts, patches them into the stored `dashboard` row and publishes
`dashboard.tiles`, whose sockets re-render the tiles and charts; the charts' parts (results
trend, failing now, age histogram) are recomputed and published second, so the tiles never wait
for them.
Coalesced: one recompute in flight (a Redis lock), one queued at most (the QUEUED mark). Events
arriving while a task is queued only add their parts; the queued task, once it holds the lock,
clears QUEUED first and then reads and clears the parts, so an event is either in what it reads or
queues the next task. A burst of N events costs at most two recomputes. The beat recomputes every
part every 30 s through the same lock, which also covers a lost task (its QUEUED mark expires) and
Redis being away for a while.
"""

import logging
import time
import uuid

from django.core.cache import cache
from django.utils import timezone

from secrets_admin.dashboard.services import charts, headline, snapshot

log = logging.getLogger(__name__)
QUEUED_KEY = "dashboard:live:queued"
LOCK_KEY = "dashboard:live:lock"
PART_KEY = "dashboard:live:part:"
QUEUED_SECONDS = 60  # a task lost with its broker frees the mark by then; the beat covers the gap
LOCK_SECONDS = 120  # a worker that died holding the lock frees it by then
POLL_SECONDS = 0.02


def _failures() -> dict:
    return snapshot.failures_as_data(charts.current_failures())


# part -> (where it lives in the live set, how to compute it from `now`)
PARTS = {
    "secrets": (("headline", "secrets"), lambda now: headline.secrets_by_backend_and_environment()),
    "rotations": (("headline", "rotations"), lambda now: headline.rotations_due()),
    "success": (("headline", "success"), headline.success_rates),
    "access": (("headline", "access"), headline.access),
    "mfa": (("headline", "mfa"), lambda now: headline.mfa_coverage()),
    "audit": (("headline", "audit"), headline.audit_chain),
    "age": (("age",), charts.age_distribution),
    "trend": (("trend",), charts.trend),
    "failures": (("failures",), lambda now: _failures()),
}
# The charts' parts (the results trend and failing now over 90 days of runs, and the age histogram
# from its counters, services.age_counts): recomputed and published after the tiles' own parts, so
# the tiles do not wait for them (at 100k under load they cost 50-100 ms together).
AFTER_TILES = ("trend", "failures", "age")
# What each announced event moves. Anything else (the beat, seed_demo's history) moves every part.
MOVES = {
    "rotation": ("success", "trend", "failures", "age", "rotations"),
    "approvals": ("access",),
    "grants": ("access",),
    "sync": ("secrets", "rotations", "age"),
}


def parts_for(reason: str) -> tuple[str, ...]:
    return MOVES.get(reason, tuple(PARTS))


def request(reason: str) -> bool:
    """Mark the parts `reason` moves and queue a recompute unless one is queued. True when this
    call queued the task. Never raises: the dashboard is not worth a failed rotation or approval."""
    from secrets_admin.dashboard.tasks import refresh_live

    try:
        cache.set_many({PART_KEY + part: 1 for part in parts_for(reason)}, timeout=QUEUED_SECONDS)
        if not cache.add(QUEUED_KEY, reason[:40] or "event", timeout=QUEUED_SECONDS):
            return False  # the queued task has not read the parts yet: it takes these too
        refresh_live.delay(reason[:40])
        return True
    except Exception:  # Redis (the broker) away: the beat recomputes within 30 s
        log.warning("could not queue the dashboard's live refresh", exc_info=True)
        return False


def _take_parts() -> list[str]:
    keys = [PART_KEY + part for part in PARTS]
    found = list(cache.get_many(keys))
    cache.delete_many(found)  # only those read: a part marked after the read stays for the next
    return [key.removeprefix(PART_KEY) for key in found]


def run(reason: str, *, every_part: bool = False) -> list[str]:
    """The task's work: wait for the recompute in flight, then recompute what is marked (or every
    part), store it and publish the topic. Returns the parts recomputed."""
    token = uuid.uuid4().hex
    deadline = time.monotonic() + LOCK_SECONDS
    while not cache.add(LOCK_KEY, token, timeout=LOCK_SECONDS):
        if time.monotonic() > deadline:
            log.warning("dashboard live refresh: the lock stayed taken for %ss", LOCK_SECONDS)
            return []
        time.sleep(POLL_SECONDS)
    try:
        cache.delete(QUEUED_KEY)  # from here on, an event queues the next task
        parts = _take_parts()
        if every_part:
            parts = list(PARTS)
        first = [part for part in parts if part not in AFTER_TILES]
        for batch in (first, [part for part in parts if part in AFTER_TILES]):
            if batch:
                recompute_parts(batch)
                _publish(reason, batch)
        return parts
    finally:
        if cache.get(LOCK_KEY) == token:
            cache.delete(LOCK_KEY)


def _publish(reason: str, parts) -> None:
    from console import live
    from secrets_admin.dashboard.live import TOPIC

    live.publish(TOPIC, {"reason": reason[:40], "parts": sorted(parts)})


def recompute_parts(parts, now=None) -> None:
    """Recompute `parts` and patch them into the stored live set (the whole set when none is
    stored yet). Runs under the lock, so no other patch interleaves."""
    from secrets_admin.dashboard.models import Snapshot

    now = now or timezone.now()
    row = Snapshot.objects.filter(name=snapshot.NAME).first()
    if row is None or set(parts) >= set(PARTS):
        snapshot.recompute(now, names=(snapshot.NAME,))
        return
    figures = row.figures
    for part in parts:
        path, compute = PARTS[part]
        target = figures
        for key in path[:-1]:
            target = target.setdefault(key, {})
        target[path[-1]] = compute(now)
    figures["headline"]["at"] = now.isoformat()
    Snapshot.objects.filter(name=snapshot.NAME).update(figures=figures, computed_at=now)
