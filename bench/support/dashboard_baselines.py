"""Baselines for bench/dashboard.py, each the same figures computed the way they were before, in
the same run and database, interleaved by the caller (which also checks they agree):

- the age histogram's counts from the counters (dashboard.services.age_counts.bucketed) against
  the full scan of the present secrets they replaced (`scanned`, the former query);
- a filtered long range of /usage/ (90 days, every operation) from the daily rollup against the
  same four figures aggregated over the hourly rows, as the page did before (`hourly` below is
  that code);
- the page computing its figures on every load (`live_figures`) against the stored ones."""

import contextlib
import json

from django.db.models import Max, Sum
from django.db.models.functions import TruncDay
from django.utils import timezone

DAYS = 90


def filters():
    from datetime import timedelta

    from secrets_admin.usage.services import patterns

    first = (timezone.now() - timedelta(days=DAYS - 1)).date().isoformat()
    return patterns.parse({"from": first, "operation": "any"})


def daily(found) -> dict:
    from secrets_admin.usage.services import patterns

    return {
        "total": patterns.total(found),
        "periods": patterns.per_period(found),
        "secrets": patterns.per_secret(found),
        "identities": patterns.per_identity(found),
    }


def hourly(found) -> dict:
    from secrets_admin.usage.models import HourlyAccess
    from secrets_admin.usage.services import patterns

    rows = HourlyAccess.objects.filter(hour__gte=found.range.start, hour__lt=found.range.end)
    days = rows.annotate(day=TruncDay("hour")).values("day").annotate(n=Sum("count")).order_by("day")
    paths = rows.values("path", "secret_id").annotate(requests=Sum("count"), last=Max("hour"))
    people = rows.values("identity", "entity").annotate(requests=Sum("count"), last=Max("hour"))
    return {
        "total": rows.aggregate(n=Sum("count"))["n"] or 0,
        "periods": ("day", list(days.values_list("day", "n"))),
        "secrets": list(paths.order_by("-requests", "path")[: patterns.TOP]),
        "identities": list(people.order_by("-requests", "identity")[: patterns.TOP]),
    }


def age_counts_call(scan: bool):
    """The age histogram's counts: from the counters (now) or by the full scan (the baseline)."""
    from secrets_admin.dashboard.services import age_counts, charts

    read = age_counts.scanned if scan else age_counts.bucketed
    return lambda: read(timezone.now(), charts.AGE_EDGES)


def usage_call(daily_rollup: bool):
    return lambda: (daily if daily_rollup else hourly)(filters())


@contextlib.contextmanager
def live_figures():
    """The baseline: the page as before the rollup, computing its figures on every load (once
    per request, as the stored path reads once per request), without storing them."""
    from django.core.serializers.json import DjangoJSONEncoder
    from django.utils import timezone

    from secrets_admin.dashboard.services import snapshot

    original = snapshot.current

    def current(request=None):
        if request is not None and hasattr(request, "_dashboard_snapshot"):
            return request._dashboard_snapshot
        plain = json.loads(json.dumps(snapshot.compute(), cls=DjangoJSONEncoder))
        row = snapshot.Figures(snapshot._revive(plain), dict.fromkeys(plain, timezone.now()))
        if request is not None:
            request._dashboard_snapshot = row
        return row

    snapshot.current = current
    try:
        yield
    finally:
        snapshot.current = original
