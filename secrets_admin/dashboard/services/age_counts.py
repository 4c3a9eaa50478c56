"""The age histogram's counts: from the counters the database keeps (dashboard.AgeCount, signed
rows per kind and UTC day, appended by triggers on inventory_secret in the transaction of every
change to a secret, migration 0004), not from a scan of every secret.

A secret's age starts on the UTC day of its last rotation (else its creation in the backend, else
its discovery); it falls in bucket i, the first whose edge it is within (`day >= today - edge`
days), or in the last (older, or no date at all). Secrets missing from their backend are not
counted. `bucketed` sums the counters (kinds × days rows, a few thousand at most, however many
secrets); `scanned` is the same figure from a full scan of the secrets, which the tests and the
beat's reconcile (`rebuild`) hold the counters to."""

import logging
from datetime import UTC, timedelta

from django.db import connections, router, transaction
from django.db.models import Case, Count, IntegerField, Sum, Value, When
from django.db.models.functions import Coalesce, TruncDate

from secrets_admin.dashboard.models import AgeCount
from secrets_admin.inventory.models import Secret

log = logging.getLogger(__name__)
TABLE = AgeCount._meta.db_table


def _bucket(field: str, now, edges) -> Case:
    today = now.astimezone(UTC).date()
    limits = [today - timedelta(days=edge) for edge in edges]
    return Case(
        *(When(**{f"{field}__gte": limit}, then=Value(i)) for i, limit in enumerate(limits)),
        default=Value(len(edges)),
        output_field=IntegerField(),
    )


def bucketed(now, edges) -> dict[tuple[str, int], int]:
    """{(kind, bucket): secrets} from the counters: one GROUP BY over the AgeCount rows."""
    rows = (
        AgeCount.objects.order_by()
        .annotate(bucket=_bucket("day", now, edges))
        .values("kind", "bucket")
        .annotate(total=Sum("n"))
    )
    return {(r["kind"], r["bucket"]): r["total"] for r in rows if r["total"]}


def _present_by_day():
    """Every present secret with the UTC day its age starts on, as the triggers count it."""
    since = TruncDate(Coalesce("last_rotated", "created_at", "discovered_at"), tzinfo=UTC)
    return Secret.objects.order_by().filter(missing_since__isnull=True).annotate(day=since)


def scanned(now, edges) -> dict[tuple[str, int], int]:
    """The same figure from a scan of every present secret (the reference the counters must match)."""
    rows = (
        _present_by_day()
        .annotate(bucket=_bucket("day", now, edges))
        .values("kind", "bucket")
        .annotate(total=Count("id"))
    )
    return {(r["kind"], r["bucket"]): r["total"] for r in rows}


def per_day() -> dict[tuple[str, object], int]:
    """{(kind, day): secrets} as the counters hold them, zero sums left out."""
    rows = AgeCount.objects.order_by().values("kind", "day").annotate(total=Sum("n"))
    return {(r["kind"], r["day"]): r["total"] for r in rows if r["total"]}


def _scanned_per_day() -> dict[tuple[str, object], int]:
    rows = _present_by_day().values("kind", "day").annotate(total=Count("id"))
    return {(r["kind"], r["day"]): r["total"] for r in rows}


def rebuild() -> int:
    """Replace the counters by a full scan, compacting them to one row per (kind, day); returns
    how many (kind, day) counts were wrong (0 when the triggers kept them exact; logged if not).
    On PostgreSQL the counters' table is locked first (EXCLUSIVE: a writer's trigger waits for
    this short transaction), so no change can fall between the scan and the replacement."""
    db = router.db_for_write(AgeCount)  # "default" but under a router (the bench's sizes)
    with transaction.atomic(using=db):
        if connections[db].vendor == "postgresql":
            with connections[db].cursor() as cursor:
                cursor.execute(f"LOCK TABLE {TABLE} IN EXCLUSIVE MODE")  # noqa: S608 (the model's table)
        expected, kept = _scanned_per_day(), per_day()
        drift = sum(1 for key in expected.keys() | kept.keys() if expected.get(key, 0) != kept.get(key, 0))
        AgeCount.objects.all().delete()
        AgeCount.objects.bulk_create(
            [AgeCount(kind=kind, day=day, n=n) for (kind, day), n in expected.items()], batch_size=1000
        )
    if drift:
        log.warning("dashboard age counters: %s (kind, day) counts differed from a scan; rebuilt", drift)
    return drift
