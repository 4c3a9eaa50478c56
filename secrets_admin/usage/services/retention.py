"""Retention of the hourly access rollup: rows older than USAGE_RETENTION_DAYS are deleted by
beat (`usage.prune`, daily), in one transaction with the audit entry that says how many and up
to when; the daily rollup's days before the cutoff go too, and the cutoff's own day is summed
again from the hours left. `LastRead` is kept (one row per path: "not read in 90 days" needs it
however old), and so are the ingest marks of files still being read; marks untouched for the retention are
deleted with the rows (their files were rotated away long ago).
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from secrets_admin.audit import chain
from secrets_admin.audit.services import record
from secrets_admin.usage import actions
from secrets_admin.usage.models import DailyAccess, HourlyAccess, IngestMark
from secrets_admin.usage.services import daily
from secrets_admin.usage.services.ingest import hour_of

ACTOR = "celery:usage.prune"


def cutoff(now: datetime | None = None) -> datetime:
    """The first hour kept."""
    return hour_of(now or timezone.now()) - timedelta(days=settings.USAGE_RETENTION_DAYS)


def prune(now: datetime | None = None) -> int:
    """Delete rollup rows (and stale ingest marks) from before `cutoff(now)`; audited when it
    deletes anything. Returns how many rollup rows went."""
    before = cutoff(now)
    with transaction.atomic():
        rows, _ = HourlyAccess.objects.filter(hour__lt=before).delete()  # one DELETE (nothing cascades)
        DailyAccess.objects.filter(day__lt=before.date()).delete()
        if rows:  # the boundary day lost its early hours: its daily rows again equal what is left
            daily.rebuild(before.date(), before.date())
        marks, _ = IngestMark.objects.filter(updated_at__lt=before).delete()
        if rows or marks:
            record(
                actions.ROLLUP_PRUNED,
                actor=ACTOR,
                data={
                    "before": chain.format_time(before),
                    "rows": rows,
                    "marks": marks,
                    "retention_days": settings.USAGE_RETENTION_DAYS,
                },
            )
    return rows
