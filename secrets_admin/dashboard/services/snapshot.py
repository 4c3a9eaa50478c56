"""The dashboard's stored figures (the rollup behind the home page's tiles and charts).

At 100k secrets and 50k runs the figures take seconds to compute; a page load or a socket must
not pay that. So they are computed here and stored as `Snapshot` rows of plain numbers, one per
set, read back together by primary key (one indexed query per request):

- NAME ("dashboard", the live set: tiles, age, results, failing now) is patched, part by part, by
  a Celery task on every live event that moves the tiles (`dashboard.live.changed`: a run ending,
  approvals, grants, a sync; services.refresh queues it, coalesced), which then publishes the
  `dashboard.tiles` topic, so sockets render it; the beat recomputes all of it every 30 s;
- PLANNING (the 30-day calendar, whose planner walks every secret due in the window, the
  compliance panel's scores, seconds at 100k; and the break-glass panel's 90-day figures) only by
  the beat, every 30 s;
- a set not stored yet is computed on first read (a fresh install).

Backend state is not stored: it comes from the readiness cache at render time (no SQL)."""

import json
import logging
from dataclasses import dataclass
from datetime import date, datetime

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from secrets_admin.dashboard.services import charts, headline

log = logging.getLogger(__name__)
NAME = "dashboard"  # the live set: tiles, age, results
PLANNING = "planning"  # the calendar and the compliance scores


def failures_as_data(found: dict) -> dict:
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


def _live_figures(now) -> dict:
    numbers = headline.headline_numbers(now)
    numbers.pop("backends")  # read live from the readiness cache instead
    return {
        "headline": numbers,
        "age": charts.age_distribution(now),
        "trend": charts.trend(now),
        "failures": failures_as_data(charts.current_failures()),
    }


def _breakglass_analytics(now) -> dict:
    """The break-glass panel's figures over the last 90 days (six aggregates over the requests
    and approvals: tens of ms at 10k grants, so stored rather than run on each page load)."""
    from breakglass import analytics
    from secrets_admin.usage.services.filters import date_range

    found = analytics.analytics(date_range({}, default_days=90, now=now), now=now, lists=False)
    return {
        "range": {"first_day": found.range.first_day, "last_day": found.range.last_day},
        "per_team": found.per_team,
        "approved": found.approved,
        "median_words": found.median_words,
        "p90_words": found.p90_words,
        "rubber_stamps": found.rubber_stamps,
        "overdue_count": found.overdue_count,
    }


def _planning_figures(now) -> dict:
    return {
        "calendar": _calendar_as_data(charts.calendar_next_30_days(now)),
        "compliance": _compliance_scores(),
        "breakglass": _breakglass_analytics(now),
    }


# name -> how to compute it. LIVE is what the events move and costs well under a second at 100k;
# PLANNING (the calendar's walk and the compliance measures) costs seconds there: beat only.
SETS = {NAME: _live_figures, PLANNING: _planning_figures}


def compute(now=None, names=tuple(SETS)) -> dict:
    """The figures of the sets `names`, freshly aggregated (the service functions the tests check)."""
    now = now or timezone.now()
    figures = {}
    for name in names:
        figures.update(SETS[name](now))
    return figures


def _revive(figures: dict) -> dict:
    """JSON back to what the templates format: dates and times, the age table's rows."""
    trend = figures.get("trend")
    if trend:
        trend["start"] = date.fromisoformat(trend["start"])
        for day in trend["days"]:
            day["day"] = date.fromisoformat(day["day"])
        for run in figures["failures"]["runs"]:
            run["updated_at"] = datetime.fromisoformat(run["updated_at"])
        for kind in figures["age"]["kinds"]:
            kind["rows"] = [tuple(row) for row in kind["rows"]]
    breakglass = figures.get("breakglass")
    if breakglass:
        for key in ("first_day", "last_day"):
            breakglass["range"][key] = date.fromisoformat(breakglass["range"][key])
    calendar = figures.get("calendar")
    if calendar:
        for day in calendar["days"]:
            day["day"] = date.fromisoformat(day["day"])
        for clash in calendar["clashes"]:
            clash["slot"] = datetime.fromisoformat(clash["slot"])
            if clash["starts_after"]:
                clash["starts_after"] = datetime.fromisoformat(clash["starts_after"])
            for other in clash["with"]:
                other["slot"] = datetime.fromisoformat(other["slot"])
    return figures


@dataclass
class Figures:
    """What the panels read: every stored figure, and when each was computed (`as_of[key]`)."""

    figures: dict
    as_of: dict

    @property
    def computed_at(self):  # the live set's time: the tiles' "as of"
        return self.as_of["headline"]


def recompute(now=None, names=tuple(SETS)) -> Figures:
    """Compute and store the sets `names` (one upsert); returns their figures as stored."""
    from secrets_admin.dashboard.models import Snapshot

    now = now or timezone.now()
    rows = [Snapshot(name=name, figures=compute(now, (name,)), computed_at=now) for name in names]
    with transaction.atomic():  # a savepoint when a caller is inside a transaction
        Snapshot.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["name"], update_fields=["figures", "computed_at"]
        )
    return _read(rows, reload=True)


def _read(rows, *, reload=False) -> Figures:
    figures, as_of = {}, {}
    for row in rows:
        stored = json.loads(json.dumps(row.figures, cls=DjangoJSONEncoder)) if reload else row.figures
        figures.update(stored)
        as_of.update(dict.fromkeys(stored, row.computed_at))
    return Figures(_revive(figures), as_of)


def current(request=None) -> Figures:
    """The stored figures (one query by primary key, once per request); a set not stored yet (a
    fresh install) is computed and stored on the spot."""
    from secrets_admin.dashboard.models import Snapshot

    if request is not None and hasattr(request, "_dashboard_snapshot"):
        return request._dashboard_snapshot
    rows = list(Snapshot.objects.filter(name__in=list(SETS)))
    missing = [name for name in SETS if name not in {row.name for row in rows}]
    if missing:
        stored = recompute(names=missing)
        found = _read(rows)
        found.figures.update(stored.figures)
        found.as_of.update(stored.as_of)
    else:
        found = _read(rows)
    if request is not None:
        request._dashboard_snapshot = found
    return found
