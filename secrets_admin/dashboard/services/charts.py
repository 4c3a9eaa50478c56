"""The numbers behind the dashboard's charts: secret age per kind against its policy, the
rotation calendar's next 30 days, the daily success/failure trend and the failures standing now.
Each is one aggregate query (the calendar reuses the schedule's planner)."""

from datetime import UTC, datetime, time, timedelta

from django.db.models import Count, Exists, OuterRef, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from secrets_admin.dashboard.services import age_counts
from secrets_admin.inventory.models import RotationPolicy
from secrets_admin.inventory.models.choices import Kind

AGE_EDGES = (30, 60, 90, 180, 365)  # days: buckets 0-30, 30-60, …, 365+
TREND_DAYS = 90
FAILURES_SHOWN = 20


def age_labels() -> list[str]:
    lows = (0, *AGE_EDGES)
    return [f"{lo}–{hi} days" for lo, hi in zip(lows, AGE_EDGES, strict=False)] + [
        f"over {AGE_EDGES[-1]} days"
    ]


def bucket_of(days: int | None) -> int | None:
    """The bucket a policy limit of `days` falls in (bars past it are over the limit)."""
    if days is None:
        return None
    for index, edge in enumerate(AGE_EDGES):
        if days <= edge:
            return index
    return len(AGE_EDGES)


def age_distribution(now=None) -> dict:
    """Per kind: how many secrets were last rotated (or created, when never rotated) in each age
    bucket (whole UTC days), the kind's default policy interval, and how many are past it. Secrets
    missing from their backend are left out. Two small queries (services.age_counts)."""
    now = now or timezone.now()
    counts = age_counts.bucketed(now, AGE_EDGES)  # the counters the triggers keep: no secret scanned
    limits = dict(
        RotationPolicy.objects.filter(is_default=True, interval_days__isnull=False).values_list(
            "kind", "interval_days"
        )
    )
    labels = age_labels()
    kinds = []
    for kind, label in Kind.choices:
        values = [counts.get((kind, i), 0) for i in range(len(AGE_EDGES) + 1)]
        if not any(values):
            continue
        limit = limits.get(kind)
        first_over = bucket_of(limit)
        # bars wholly past the limit (the bucket holding the limit straddles it)
        over = [first_over is not None and i > first_over for i in range(len(values))]
        kinds.append(
            {
                "kind": kind,
                "label": label,
                "counts": values,
                "total": sum(values),
                "limit_days": limit,
                "limit_bucket": first_over,
                "over": over,
                "past_limit": sum(v for v, o in zip(values, over, strict=True) if o),
                "rows": list(zip(labels, values, over, strict=True)),
            }
        )
    return {"labels": labels, "kinds": kinds}


def _ended_states():
    from secrets_admin.rotation.models import RotationRun

    state = RotationRun.State
    return state.FINISHED, (state.FAILED, state.NEEDS_PERSON)


def trend(now=None, days: int = TREND_DAYS) -> dict:
    """Runs that finished and that failed for good, per UTC day, for the last `days` days."""
    from secrets_admin.rotation.models import RotationRun

    now = now or timezone.now()
    finished, failed = _ended_states()
    first = (now.astimezone(UTC) - timedelta(days=days - 1)).date()
    start = datetime.combine(first, time.min, tzinfo=UTC)
    rows = (
        RotationRun.objects.order_by()
        .filter(finished_at__gte=start, finished_at__lte=now, state__in=(finished, *failed))
        .annotate(day=TruncDate("finished_at", tzinfo=UTC))
        .values("day")
        .annotate(ok=Count("id", filter=Q(state=finished)), failed=Count("id", filter=~Q(state=finished)))
    )
    by_day = {r["day"]: r for r in rows}
    series = []
    for offset in range(days):  # one row per day of the window, not per run
        day = first + timedelta(days=offset)
        row = by_day.get(day, {})
        series.append({"day": day, "finished": row.get("ok", 0), "failed": row.get("failed", 0)})
    return {
        "days": series,
        "finished": sum(d["finished"] for d in series),
        "failed": sum(d["failed"] for d in series),
        "start": first,
    }


def current_failures(limit: int = FAILURES_SHOWN) -> dict:
    """Runs failing now: retrying, or ended failed / left for a person with no later run of the
    same secret that finished. Newest first; `count` is exact, `runs` the first `limit`."""
    from secrets_admin.rotation.models import RotationRun

    state = RotationRun.State
    finished, failed = _ended_states()
    later_success = RotationRun.objects.filter(
        secret_id=OuterRef("secret_id"), state=finished, created_at__gt=OuterRef("created_at")
    )
    runs = RotationRun.objects.filter(
        Q(state=state.RETRYING)
        | Q(state__in=failed, finished_at__gte=timezone.now() - timedelta(days=TREND_DAYS)),
        state__in=(state.RETRYING, *failed),  # spelled out: the runs' state index finds these few
    ).filter(~Exists(later_success))
    # The secrets of the 20 shown, fetched after the limit (a join would probe every failing run's).
    shown = list(runs.prefetch_related("secret").order_by("-updated_at", "-id")[:limit])
    return {"count": runs.count(), "runs": shown}  # always counted: same queries at any size


def calendar_next_30_days(now=None) -> dict:
    """The schedule's own calendar (schedule.calendar.build), reduced to a count per day and
    the collisions of linked secrets, which the dashboard flags."""
    from secrets_admin.schedule import calendar

    plan = calendar.build(now, days=calendar.DAYS)
    days = [{"day": d.day, "planned": len(d.entries), "collisions": d.collisions} for d in plan.days]
    clashes = [
        {"secret": e.secret, "slot": e.slot, "with": e.collides_with, "starts_after": e.starts_after}
        for d in plan.days
        for e in d.shown
        if e.collides_with
    ][:FAILURES_SHOWN]
    return {"days": days, "planned": plan.planned, "collisions": plan.collisions, "clashes": clashes}
