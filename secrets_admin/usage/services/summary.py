"""The panels' figures, computed by beat (`usage.summarise`, every 5 minutes) into one row, so
the home page reads one row instead of joining 100k secrets with the rollup on every view; the
/usage/ page's own figures are kept in the same row (services/page.py). Prices are applied when
the panel renders (a changed price shows at once)."""

from datetime import datetime, timedelta

from django.utils import timezone

from secrets_admin.usage.models import Summary
from secrets_admin.usage.services import anomalies, cost, page, patterns

NAME = "panels"
DAILY_DAYS = 14  # the access panel's chart: reads per day
STALE_AFTER = timedelta(minutes=15)  # beat refreshes every 5; older means beat is not running


def refresh(*, now: datetime | None = None) -> dict:
    """Compute and store the figures (a few aggregate queries); returns them."""
    now = now or timezone.now()
    counts, stale = cost.tally(now=now)
    context = anomalies.settings_context(now)
    shown = page.compute(now)
    figures = {
        "counts": counts,
        "stale": stale,
        "stale_count": anomalies.stale_count(now=now),
        "spikes": shown["spikes"][:5],  # the page's, biggest first
        "watched_since": context["watched_since"].isoformat() if context["watched_since"] else None,
        "daily": [(day.isoformat(), n) for day, n in patterns.per_day(now=now, days=DAILY_DAYS)],
        "page": shown,
    }
    Summary.objects.update_or_create(name=NAME, defaults={"computed_at": now, "figures": figures})
    return figures


def current() -> tuple[dict, datetime]:
    """The stored figures and when they were computed; computed now if missing or stale."""
    row = Summary.objects.filter(name=NAME).first()
    if row is None or row.computed_at < timezone.now() - STALE_AFTER:
        now = timezone.now()
        return _readable(refresh(now=now)), now
    return _readable(row.figures), row.computed_at


def _readable(figures: dict) -> dict:
    spikes = [{**spike, "hour": datetime.fromisoformat(spike["hour"])} for spike in figures.get("spikes", [])]
    since = figures.get("watched_since")
    daily = [(datetime.fromisoformat(day), n) for day, n in figures.get("daily", [])]
    since = datetime.fromisoformat(since) if since else None
    return {**figures, "spikes": spikes, "watched_since": since, "daily": daily}
