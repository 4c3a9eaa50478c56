"""Unusual spikes against each secret's own baseline, and secrets nobody reads (candidates to
retire). One SQL statement each, over the rollup and the inventory: never a loop over secrets.

Spike rule: the watched window is the last SPIKE_WINDOW_HOURS hours; each secret's baseline is
the BASELINE_HOURS hours before it, hours without reads counting as 0. An hour in the window is a
spike when its reads are at least SPIKE_MIN_READS and above mean + SPIKE_SIGMAS × deviation of
the baseline, where the deviation is at least √mean (counts are at least as noisy as a Poisson
process: a secret read exactly 20 times every hour is not "spiking" at 21). A secret with no
baseline reads has mean 0 and deviation 0, so any hour of SPIKE_MIN_READS reads or more is a
spike. Compared squared, so no sqrt is needed (SQLite has none).

Stale rule: a secret older than STALE_DAYS (the earlier of its creation in the backend and the
console's discovery of it) that nobody read in STALE_DAYS: AWS secrets by
Secrets Manager's LastAccessedDate (never accessed counts as not read); OpenBao KV secrets by
the rollup's last value read, judged only once the rollup covers STALE_DAYS (before that the
console has not watched long enough to say). Certificates and missing secrets are not judged.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from secrets_admin.inventory.models import Secret
from secrets_admin.usage.models import HourlyAccess, LastRead
from secrets_admin.usage.services.ingest import aws_backends, hour_of, vault_backends

BASELINE_HOURS = 7 * 24
LAST_READ = "COALESCE(r.last_read_at, s.last_accessed)"


@dataclass(frozen=True)
class Spike:
    secret_id: int
    path: str
    hour: datetime
    reads: int
    mean: float
    deviation: float


def spikes(*, now: datetime | None = None, limit: int = 50) -> list[Spike]:
    now = now or timezone.now()
    window_start = hour_of(now) - timedelta(hours=settings.USAGE_SPIKE_WINDOW_HOURS - 1)
    baseline_start = window_start - timedelta(hours=BASELINE_HOURS)
    ops, table = connection.ops, HourlyAccess._meta.db_table
    sql = f"""
        WITH hourly AS (
            SELECT secret_id, hour, SUM("count") AS n FROM {table}
            WHERE operation = 'read' AND secret_id IS NOT NULL AND hour >= %s
            GROUP BY secret_id, hour
        ), base AS (
            SELECT secret_id, SUM(n) * 1.0 / {BASELINE_HOURS} AS mean,
                   SUM(n * n) * 1.0 / {BASELINE_HOURS} AS square
            FROM hourly WHERE hour < %s GROUP BY secret_id
        ), scored AS (
            SELECT h.secret_id, h.hour, h.n, COALESCE(b.mean, 0) AS mean,
                   COALESCE(b.square, 0) - COALESCE(b.mean, 0) * COALESCE(b.mean, 0) AS variance
            FROM hourly h LEFT JOIN base b ON b.secret_id = h.secret_id
            WHERE h.hour >= %s AND h.n >= %s
        )
        SELECT secret_id, hour, n, mean, variance FROM scored
        WHERE n > mean
          AND (n - mean) * (n - mean) > %s * (CASE WHEN variance > mean THEN variance ELSE mean END)
        ORDER BY n - mean DESC, hour DESC LIMIT %s
    """  # noqa: S608 (table names from the models, values are parameters)
    sigmas = float(settings.USAGE_SPIKE_SIGMAS)
    params = [
        ops.adapt_datetimefield_value(baseline_start),
        ops.adapt_datetimefield_value(window_start),
        ops.adapt_datetimefield_value(window_start),
        settings.USAGE_SPIKE_MIN_READS,
        sigmas * sigmas,
        limit,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
    paths = dict(Secret.objects.filter(pk__in={row[0] for row in found}).values_list("id", "path"))
    return [
        Spike(
            secret_id=secret_id,
            path=paths.get(secret_id, ""),
            hour=_aware(hour),
            reads=int(n),
            mean=round(float(mean), 2),
            deviation=round(max(float(variance), float(mean), 0.0) ** 0.5, 2),
        )
        for secret_id, hour, n, mean, variance in found
    ]


def _aware(value) -> datetime:
    if isinstance(value, str):  # SQLite hands back text from raw SQL
        value = datetime.fromisoformat(value)
    return value if timezone.is_aware(value) else value.replace(tzinfo=UTC)


def watched_since() -> datetime | None:
    """The first hour the rollup holds (the index on hour answers this)."""
    first = HourlyAccess.objects.order_by("hour").values_list("hour", flat=True).first()
    return first


def _stale_sql(now: datetime) -> tuple[str, list]:
    cutoff = now - timedelta(days=settings.USAGE_STALE_DAYS)
    covered = settings_context(now)["covered"]
    vault = vault_backends() or ["-"]
    aws = aws_backends() or ["-"]
    ops = connection.ops
    at = ops.adapt_datetimefield_value(cutoff)
    secrets, reads = Secret._meta.db_table, LastRead._meta.db_table
    vault_marks, aws_marks = ", ".join(["%s"] * len(vault)), ", ".join(["%s"] * len(aws))
    sql = f"""
        FROM {secrets} s LEFT JOIN {reads} r ON r.path = s.path AND s.backend IN ({vault_marks})
        WHERE s.status <> 'missing' AND s.kind <> 'certificate'
          AND (CASE WHEN s.created_at < s.discovered_at THEN s.created_at ELSE s.discovered_at END) < %s
          AND ((s.backend IN ({aws_marks}) AND (s.last_accessed IS NULL OR s.last_accessed < %s))
               OR (%s AND s.backend IN ({vault_marks}) AND (r.last_read_at IS NULL OR r.last_read_at < %s)))
    """
    return sql, [*vault, at, *aws, at, covered, *vault, at]


def stale_count(*, now: datetime | None = None) -> int:
    sql, params = _stale_sql(now or timezone.now())
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) " + sql, params)
        return cursor.fetchone()[0]


def stale_by_backend(*, now: datetime | None = None) -> dict[str, int]:
    """{backend name: stale secrets} (for the cost estimate)."""
    sql, params = _stale_sql(now or timezone.now())
    with connection.cursor() as cursor:
        cursor.execute("SELECT s.backend, COUNT(*) " + sql + " GROUP BY s.backend", params)
        return dict(cursor.fetchall())


def stale(*, now: datetime | None = None, limit: int = 200) -> list[tuple[Secret, datetime | None]]:
    """The oldest-read stale secrets first: [(secret, last read or None)]."""
    sql, params = _stale_sql(now or timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT s.id, {LAST_READ} "
            + sql
            + f" ORDER BY {LAST_READ} IS NOT NULL, {LAST_READ}, s.id LIMIT %s",
            [*params, limit],
        )
        found = cursor.fetchall()
    secrets = Secret.objects.in_bulk([row[0] for row in found])
    return [(secrets[pk], _aware(last) if last else None) for pk, last in found if pk in secrets]


def settings_context(now: datetime | None = None) -> dict:
    """What the templates say about the rules: window, days, and whether the rollup covers them."""
    since = watched_since()
    cutoff = (now or timezone.now()) - timedelta(days=settings.USAGE_STALE_DAYS)
    return {
        "spike_window": settings.USAGE_SPIKE_WINDOW_HOURS,
        "stale_days": settings.USAGE_STALE_DAYS,
        "watched_since": since,
        "covered": since is not None and since <= cutoff,
    }
