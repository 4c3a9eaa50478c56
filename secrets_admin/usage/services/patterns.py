"""Reads per hour, per secret and per identity over the hourly rollup (ranges up to a week) or the
daily one (longer ranges, services.daily: the same sums): aggregates over their (hour | day),
(secret, …) and (identity, …) indexes, a bounded number of queries whatever the estate's size."""

from dataclasses import dataclass

from django.db.models import Max, Sum
from django.db.models.functions import TruncDay

from secrets_admin.inventory.models import Secret
from secrets_admin.usage.models import DailyAccess, HourlyAccess
from secrets_admin.usage.services import daily
from secrets_admin.usage.services.filters import BadFilter, Range, choice, date_range, text, whole_number

OPERATIONS = ("read", "list", "create", "update", "delete", "patch")
HOURLY_UP_TO_DAYS = 7  # longer ranges are shown per day (a week is 168 rows already)
TOP = 20


@dataclass(frozen=True)
class Filters:
    range: Range
    operation: str  # "" = every operation
    secret: Secret | None
    identity: str


def parse(params, *, now=None) -> Filters:
    """Raises BadFilter with what to fix."""
    span = date_range(params, default_days=7, now=now)
    operation = choice(params, "operation", (*OPERATIONS, "any"), default="read")
    secret_id = whole_number(params, "secret")
    secret = None
    if secret_id is not None:
        secret = Secret.objects.filter(pk=secret_id).first()
        if secret is None:
            raise BadFilter(f"There is no secret #{secret_id} in the inventory.")
    return Filters(span, "" if operation == "any" else operation, secret, text(params, "identity"))


def by_day(filters: Filters) -> bool:
    """Longer ranges read the daily rollup (services.daily: the same sums, up to 24x fewer rows)."""
    return filters.range.days > HOURLY_UP_TO_DAYS


def _last(filters: Filters) -> Max:
    return Max("last_hour" if by_day(filters) else "hour")


def rows(filters: Filters):
    if by_day(filters):
        span = filters.range
        rows = DailyAccess.objects.filter(day__gte=span.first_day, day__lte=span.last_day)
    else:
        rows = HourlyAccess.objects.filter(hour__gte=filters.range.start, hour__lt=filters.range.end)
    if filters.operation:
        rows = rows.filter(operation=filters.operation)
    if filters.secret is not None:
        rows = rows.filter(secret=filters.secret)
    if filters.identity:
        rows = rows.filter(identity=filters.identity)
    return rows


def per_period(filters: Filters) -> tuple[str, list[tuple]]:
    """("hour" or "day", [(start, requests)]) in time order; periods without requests are left out."""
    found = rows(filters)
    if not by_day(filters):
        return "hour", list(
            found.values("hour").annotate(n=Sum("count")).order_by("hour").values_list("hour", "n")
        )
    return "day", _days(found)


def _days(found) -> list[tuple]:
    days = found.values("day").annotate(n=Sum("count")).order_by("day").values_list("day", "n")
    return [(daily.midnight(day), n) for day, n in days]  # each day's start, as TruncDay gave it


def per_day(*, now=None, days: int = 14) -> list[tuple]:
    """Reads per day over the last `days` days (today included), for the home page's chart."""
    filters = Filters(date_range({}, default_days=days, now=now), "read", None, "")
    if not by_day(filters):
        found = rows(filters).annotate(day=TruncDay("hour")).values("day").annotate(n=Sum("count"))
        return list(found.order_by("day").values_list("day", "n"))
    return _days(rows(filters))


def per_secret(filters: Filters, limit: int = TOP) -> list[dict]:
    """The most requested paths: [{path, secret_id, requests, last}] (secret_id None: no inventory row)."""
    found = rows(filters).values("path", "secret_id").annotate(requests=Sum("count"), last=_last(filters))
    return list(found.order_by("-requests", "path")[:limit])


def per_identity(filters: Filters, limit: int = TOP) -> list[dict]:
    """[{identity, entity, requests, last}], most active first."""
    found = rows(filters).values("identity", "entity").annotate(requests=Sum("count"), last=_last(filters))
    return list(found.order_by("-requests", "identity")[:limit])


def total(filters: Filters) -> int:
    return rows(filters).aggregate(n=Sum("count"))["n"] or 0


def aws_last_accessed(limit: int = TOP) -> list[Secret]:
    """AWS secrets by Secrets Manager's LastAccessedDate (stored by the inventory sync), most
    recently read first, then those never read."""
    from django.db.models import F

    from secrets_admin.usage.services.ingest import aws_backends

    found = Secret.objects.filter(backend__in=aws_backends()).exclude(status="missing")
    return list(found.order_by(F("last_accessed").desc(nulls_last=True), "id")[:limit])
