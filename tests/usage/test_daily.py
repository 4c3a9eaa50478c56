"""The daily rollup against the hours it sums: ranges longer than a week read DailyAccess, and
every figure (total, per day, per secret and per identity with each one's last hour) equals the
same aggregate over the hourly rows, through ingest batches, a secret found later (link beat),
retention's prune (whose cutoff falls mid-day) and the demo history's reset."""

import random
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Max, Sum
from django.db.models.functions import TruncDay
from django.test.utils import CaptureQueriesContext

from secrets_admin.usage.models import DailyAccess, HourlyAccess
from secrets_admin.usage.services import daily, ingest, patterns, retention, summary
from tests.usage.conftest import HOUR, NOW

pytestmark = pytest.mark.django_db
PATHS = ("secret/app/db", "secret/app/cache", "secret/app/queue", "secret/unknown/one")
RANGES = (
    {"from": (NOW - timedelta(days=59)).date().isoformat()},
    {"from": (NOW - timedelta(days=59)).date().isoformat(), "operation": "any"},
    {
        "from": (NOW - timedelta(days=30)).date().isoformat(),
        "to": (NOW - timedelta(days=9)).date().isoformat(),
    },
    {"from": (NOW - timedelta(days=59)).date().isoformat(), "identity": "batch"},
)


@pytest.fixture
def history(secret):
    known = {path: secret(path) for path in PATHS[:3]}
    rng = random.Random(7)
    for _ in range(3):  # three ingest batches: the same hours grow
        batch = Counter()
        for _ in range(400):
            at = HOUR - timedelta(hours=rng.randrange(0, 24 * 60))
            op = "read" if rng.random() < 0.8 else "list"
            batch[(at, rng.choice(PATHS), rng.choice(("api", "batch", "cron")), "", op)] += rng.randint(1, 9)
        ingest.add_counts(batch)
    return known


def _hourly(filters) -> dict:
    """The figures the page showed before the daily rollup: the same aggregates over the hours."""
    span = filters.range
    found = HourlyAccess.objects.filter(hour__gte=span.start, hour__lt=span.end)
    if filters.operation:
        found = found.filter(operation=filters.operation)
    if filters.secret is not None:
        found = found.filter(secret=filters.secret)
    if filters.identity:
        found = found.filter(identity=filters.identity)
    days = found.annotate(day=TruncDay("hour")).values("day").annotate(n=Sum("count")).order_by("day")
    paths = found.values("path", "secret_id").annotate(requests=Sum("count"), last=Max("hour"))
    people = found.values("identity", "entity").annotate(requests=Sum("count"), last=Max("hour"))
    return {
        "total": found.aggregate(n=Sum("count"))["n"] or 0,
        "periods": ("day", list(days.values_list("day", "n"))),
        "secrets": list(paths.order_by("-requests", "path")[: patterns.TOP]),
        "identities": list(people.order_by("-requests", "identity")[: patterns.TOP]),
    }


def _daily(filters) -> dict:
    return {
        "total": patterns.total(filters),
        "periods": patterns.per_period(filters),
        "secrets": patterns.per_secret(filters),
        "identities": patterns.per_identity(filters),
    }


def _check_every_range(extra=None):
    for params in RANGES + tuple(extra or ()):
        filters = patterns.parse(params, now=NOW)
        assert patterns.by_day(filters)
        assert _daily(filters) == _hourly(filters), params


def test_long_ranges_read_the_daily_rows_and_match_the_hours(history):
    assert DailyAccess.objects.count() < HourlyAccess.objects.count()
    _check_every_range(
        [{"from": (NOW - timedelta(days=59)).date().isoformat(), "secret": str(history[PATHS[0]].pk)}]
    )
    filters = patterns.parse(RANGES[0], now=NOW)
    with CaptureQueriesContext(connection) as queries:
        _daily(filters)
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert "usage_dailyaccess" in sql and "usage_hourlyaccess" not in sql
    # A week or less stays on the hours.
    assert not patterns.by_day(patterns.parse({}, now=NOW))


def test_a_secret_found_later_is_linked_in_both(history, secret):
    found = secret(PATHS[3])
    assert ingest.link_secrets() > 0
    assert not DailyAccess.objects.filter(path=PATHS[3], secret__isnull=True).exists()
    _check_every_range([{"from": (NOW - timedelta(days=59)).date().isoformat(), "secret": str(found.pk)}])


def test_a_prune_whose_cutoff_falls_mid_day_keeps_the_days_equal(history, settings):
    settings.USAGE_RETENTION_DAYS = 30
    cutoff = retention.cutoff(NOW)
    assert cutoff.hour == 12  # mid-day: that day's daily rows are summed again from its later hours
    assert retention.prune(now=NOW) > 0
    assert not DailyAccess.objects.filter(day__lt=cutoff.date()).exists()
    boundary = patterns.parse({"from": (cutoff - timedelta(days=3)).date().isoformat()}, now=NOW)
    _check_every_range([{"from": boundary.range.first_day.isoformat()}])


def test_rebuild_recomputes_days_from_the_hours(history):
    before = list(
        DailyAccess.objects.order_by("day", "path", "identity", "operation").values_list(
            "day", "path", "secret_id", "identity", "operation", "count", "last_hour"
        )
    )
    DailyAccess.objects.filter(day=NOW.date()).update(count=0)
    assert daily.rebuild(NOW.date(), NOW.date()) > 0
    daily.rebuild()  # every day
    after = list(
        DailyAccess.objects.order_by("day", "path", "identity", "operation").values_list(
            "day", "path", "secret_id", "identity", "operation", "count", "last_hour"
        )
    )
    assert after == before


def test_the_page_shows_a_filtered_long_range_from_the_daily_rows(history, member):
    summary.refresh()  # as the beat stores it: the page's spikes and stale lists read the hours there
    client = member("frank", "managers")
    params = {**RANGES[1], "to": NOW.date().isoformat()}
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/usage/", params)
    assert page.status_code == 200
    expected = _hourly(patterns.parse(params, now=NOW))
    assert page.context["total"] == expected["total"] and page.context["secrets"] == expected["secrets"]
    # Only the rollup's first hour is read from the hours (one index probe, for the page's note).
    hourly = [q["sql"] for q in queries.captured_queries if "usage_hourlyaccess" in q["sql"]]
    hourly = [sql for sql in hourly if not sql.endswith("ORDER BY 1 ASC LIMIT 1")]
    assert not hourly, hourly
