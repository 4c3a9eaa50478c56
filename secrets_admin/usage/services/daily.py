"""The daily rollup (DailyAccess): the hourly rows summed per UTC day, which ranges longer than a
week read instead of the hours (services.patterns). It is kept exactly equal to summing the
hours per day:

- `add`: with every batch the ingest upserts into the hours, the same counts per day, in the
  same transaction (services.ingest.add_counts);
- linking: rows of a secret found after they were counted are linked with the hours'
  (services.ingest.link_secrets);
- `rebuild(first, last)`: the days from `first` to `last` recomputed from the hours (one
  DELETE and one INSERT ... SELECT GROUP BY): retention's boundary day after a prune (whose
  earlier hours went), the demo history, the migration's first fill and the bench loaders.

The one transient difference: a secret found mid-day has that day's earlier hours unlinked until
the link beat (15 min) runs, while its daily row is linked at once; the counts are the same."""

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

from django.db import connections, router

from secrets_admin.usage.models import DailyAccess, HourlyAccess

TABLE, HOURS = DailyAccess._meta.db_table, HourlyAccess._meta.db_table
COLUMNS = 'day, path, secret_id, identity, entity, operation, "count", last_hour, demo'
DAY_OF_HOUR = {"postgresql": "(hour AT TIME ZONE 'UTC')::date", "sqlite": "date(hour)"}


def _connection():
    return connections[router.db_for_write(DailyAccess)]


def midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def add(counts: Counter, known: dict, *, demo: bool) -> None:
    """Upsert the hourly batch {(hour, path, identity, entity, operation): n} per day: a row's
    count grows and its last hour only moves forward."""
    days: dict[tuple, list] = {}
    for (hour, path, identity, entity, operation), n in counts.items():
        found = days.setdefault((hour.astimezone(UTC).date(), path, identity, entity, operation), [0, hour])
        found[0] += n
        found[1] = max(found[1], hour)
    connection = _connection()
    ops = connection.ops
    rows = [
        (day, path, known.get(path), identity, entity, operation, n, ops.adapt_datetimefield_value(at), demo)
        for (day, path, identity, entity, operation), (n, at) in days.items()
    ]
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 500):
            chunk = rows[start : start + 500]
            values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(chunk))
            cursor.execute(
                f"INSERT INTO {TABLE} ({COLUMNS}) "  # noqa: S608 (table from the model, values are parameters)
                f"VALUES {values} ON CONFLICT (day, path, identity, entity, operation, demo) DO UPDATE "
                f'SET "count" = {TABLE}."count" + excluded."count", '
                f"last_hour = CASE WHEN excluded.last_hour > {TABLE}.last_hour "
                f"THEN excluded.last_hour ELSE {TABLE}.last_hour END, "
                f"secret_id = COALESCE(excluded.secret_id, {TABLE}.secret_id)",
                [value for row in chunk for value in row],
            )


def rebuild(first: date | None = None, last: date | None = None, *, demo: bool | None = None) -> int:
    """Recompute the days `first`..`last` (both included; None: from the first / to the last)
    from the hours, for demo rows, real rows, or both (None). Returns the daily rows written."""
    connection = _connection()
    where, params = ["1 = 1"], []
    daily = DailyAccess.objects.all()
    if first is not None:
        where.append("hour >= %s")
        params.append(connection.ops.adapt_datetimefield_value(midnight(first)))
        daily = daily.filter(day__gte=first)
    if last is not None:
        where.append("hour < %s")
        params.append(connection.ops.adapt_datetimefield_value(midnight(last + timedelta(days=1))))
        daily = daily.filter(day__lte=last)
    if demo is not None:
        where.append("demo = %s")
        params.append(demo)
        daily = daily.filter(demo=demo)
    daily.delete()
    day = DAY_OF_HOUR[connection.vendor]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TABLE} ({COLUMNS}) "  # noqa: S608 (tables from the models)
            f'SELECT {day}, path, max(secret_id), identity, entity, operation, sum("count"), max(hour), demo '
            f"FROM {HOURS} WHERE {' AND '.join(where)} "
            f"GROUP BY {day}, path, identity, entity, operation, demo",
            params,
        )
        return cursor.rowcount
