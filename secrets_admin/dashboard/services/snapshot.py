"""The dashboard's stored figures (the rollup behind the tiles and the age and results charts).

At 100k secrets and 50k runs the aggregates take hundreds of milliseconds together; a page load
or a socket must not pay that. So they are computed here, stored as one `Snapshot` row of plain
numbers, and read back by primary key (one indexed query):

- every 30 s by the beat (`dashboard.snapshot`), for figures no event announces;
- on every live event that moves the tiles (`dashboard.live.changed`: a run ending, approvals,
  grants, a sync), *coalesced*: the first event takes a Redis lock and recomputes; events that
  arrive meanwhile only bump a counter and return, and the holder recomputes once more at the end
  if the counter moved. A burst costs one recompute (plus one for what came during it), and the
  `dashboard.tiles` topic is published after the row is stored, so sockets render the new row;
- on first read, when no row exists yet (a fresh install).

The home page's compliance panel (framework scores) and the 30-day calendar (the schedule's
planner walks every secret due in the window, a third of a 90-day estate) read the same row.
Backend state is not stored: it comes from the readiness cache at render time (no SQL)."""

import json
import logging
import uuid
from datetime import date, datetime

from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from secrets_admin.dashboard.services import charts, headline

log = logging.getLogger(__name__)
NAME = "dashboard"
LOCK_KEY = "dashboard:snapshot:lock"
WANTED_KEY = "dashboard:snapshot:wanted"  # moved by every event; the holder recomputes until still
LOCK_SECONDS = 120  # a holder that died frees the lock by then; the beat covers the gap
MAX_ROUNDS = 5  # under a constant stream of events, release the lock now and then (then retake it)


def _failures_as_data(found: dict) -> dict:
    return {
        "count": found["count"],
        "runs": [
            {
                "pk": run.pk,
                "url": run.get_absolute_url(),
                "secret": run.secret.display_name,
                "secret_url": run.secret.get_absolute_url(),
                "state": run.get_state_display(),
                "error": run.error,
                "updated_at": run.updated_at,
            }
            for run in found["runs"]  # at most charts.FAILURES_SHOWN
        ],
    }


def _compliance_scores() -> list[dict]:
    """Each framework's score as the home page's compliance panel shows it (its measures are
    aggregates over the whole estate too; the compliance pages themselves stay live)."""
    from secrets_admin.compliance.services import scoring

    return [
        {"framework": {"id": r.framework.id, "name": r.framework.name}, "counts": r.counts, "score": r.score}
        for r in scoring.evaluate()
    ]


def _calendar_as_data(cal: dict) -> dict:
    def secret(s) -> dict:
        return {"name": s.display_name, "url": s.get_absolute_url()}

    return {
        **cal,
        "clashes": [
            {
                "secret": secret(c["secret"]),
                "slot": c["slot"],
                "with": [{**secret(other), "slot": slot} for other, slot in c["with"]],
                "starts_after": c["starts_after"],
            }
            for c in cal["clashes"]  # at most charts.FAILURES_SHOWN
        ],
    }


def compute(now=None) -> dict:
    """Every stored figure, freshly aggregated (the same service functions the tests check)."""
    now = now or timezone.now()
    numbers = headline.headline_numbers(now)
    numbers.pop("backends")  # read live from the readiness cache instead
    return {
        "headline": numbers,
        "age": charts.age_distribution(now),
        "trend": charts.trend(now),
        "failures": _failures_as_data(charts.current_failures()),
        "calendar": _calendar_as_data(charts.calendar_next_30_days(now)),
        "compliance": _compliance_scores(),
    }


def _revive(figures: dict) -> dict:
    """JSON back to what the templates format: the trend's days and the failures' times."""
    trend = figures["trend"]
    trend["start"] = date.fromisoformat(trend["start"])
    for day in trend["days"]:
        day["day"] = date.fromisoformat(day["day"])
    for run in figures["failures"]["runs"]:
        run["updated_at"] = datetime.fromisoformat(run["updated_at"])
    calendar = figures["calendar"]
    for day in calendar["days"]:
        day["day"] = date.fromisoformat(day["day"])
    for clash in calendar["clashes"]:
        clash["slot"] = datetime.fromisoformat(clash["slot"])
        if clash["starts_after"]:
            clash["starts_after"] = datetime.fromisoformat(clash["starts_after"])
        for other in clash["with"]:
            other["slot"] = datetime.fromisoformat(other["slot"])
    for kind in figures["age"]["kinds"]:
        kind["rows"] = [tuple(row) for row in kind["rows"]]
    return figures


def recompute(now=None):
    """Compute and store the figures (one upsert); returns the stored Snapshot, as read back."""
    from secrets_admin.dashboard.models import Snapshot

    now = now or timezone.now()
    figures = compute(now)
    row = Snapshot(name=NAME, figures=figures, computed_at=now)
    with transaction.atomic():  # a savepoint when a caller is inside a transaction
        Snapshot.objects.bulk_create(
            [row], update_conflicts=True, unique_fields=["name"], update_fields=["figures", "computed_at"]
        )
    row.figures = _revive(json.loads(json.dumps(figures, cls=DjangoJSONEncoder)))  # as stored
    return row


def current(request=None):
    """The stored figures (one query by primary key, once per request), computed and stored on
    the spot when there are none yet. `figures` has "headline", "age", "trend", "failures"."""
    from secrets_admin.dashboard.models import Snapshot

    if request is not None and hasattr(request, "_dashboard_snapshot"):
        return request._dashboard_snapshot
    row = Snapshot.objects.filter(name=NAME).first()
    if row is None:
        row = recompute()
    else:
        row.figures = _revive(row.figures)
    if request is not None:
        request._dashboard_snapshot = row
    return row


def _wanted() -> int:
    return int(cache.get(WANTED_KEY) or 0)


def _recompute_and_announce(reason: str) -> None:
    from console import live
    from secrets_admin.dashboard.live import TOPIC

    recompute()
    live.publish(TOPIC, {"reason": reason[:40]})


def refresh(reason: str = "") -> bool:
    """Recompute now unless another process is already doing it (then it recomputes again for
    this event when it is done). True when this call recomputed. Never raises."""
    try:
        cache.add(WANTED_KEY, 0, timeout=None)
        cache.incr(WANTED_KEY)
    except Exception:  # Redis away: no coordination possible; still keep the figures right
        log.warning("dashboard refresh without Redis", exc_info=True)
        return _guarded(reason)
    did = False
    token = uuid.uuid4().hex
    try:
        while cache.add(LOCK_KEY, token, timeout=LOCK_SECONDS):
            try:
                for _ in range(MAX_ROUNDS):
                    wanted = _wanted()
                    did = _guarded(reason) or did
                    if _wanted() == wanted:
                        break
            finally:
                if cache.get(LOCK_KEY) == token:
                    cache.delete(LOCK_KEY)
            if _wanted() == wanted:  # nothing came between the last check and the release
                break
    except Exception:  # Redis went away mid-way: the next event or the beat catches up
        log.warning("dashboard refresh interrupted", exc_info=True)
    return did


def _guarded(reason: str) -> bool:
    try:
        _recompute_and_announce(reason)
        return True
    except Exception:  # the dashboard is not worth a failed rotation or approval
        log.warning("could not recompute the dashboard's figures", exc_info=True)
        return False
