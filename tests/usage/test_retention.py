"""Retention of the hourly rollup: beat deletes hours older than USAGE_RETENTION_DAYS, audited,
and keeps everything newer (and every path's last read)."""

from datetime import timedelta

import pytest
from django.conf import settings

from secrets_admin.audit.models import AuditEntry
from secrets_admin.usage import tasks
from secrets_admin.usage.models import HourlyAccess, IngestMark, LastRead
from secrets_admin.usage.services import ingest, retention
from tests.usage.conftest import HOUR, NOW

pytestmark = pytest.mark.django_db


def test_hours_older_than_the_retention_go_and_the_deletion_is_audited(reads, settings):
    settings.USAGE_RETENTION_DAYS = 30
    days = 30 * 24
    reads({(days + 1, "secret/app/db", "alice"): 4, (days + 500, "secret/app/db", "bob"): 2})
    reads({(days, "secret/app/db", "alice"): 5, (1, "secret/app/db", "carol"): 1})  # kept
    ingest.note_last_reads({"secret/app/db": HOUR - timedelta(hours=days + 500)})
    IngestMark.objects.create(file="a" * 64, path="/old/audit.log", offset=10)
    IngestMark.objects.filter(file="a" * 64).update(updated_at=NOW - timedelta(days=31))
    IngestMark.objects.create(file="b" * 64, path="/var/log/openbao/audit.log", offset=99)

    assert retention.prune(NOW) == 2
    left = HourlyAccess.objects.order_by("hour").values_list("identity", "count")
    assert list(left) == [("alice", 5), ("carol", 1)]
    assert (
        HourlyAccess.objects.order_by("hour").first().hour
        == retention.cutoff(NOW)
        == HOUR - timedelta(days=30)
    )
    assert LastRead.objects.filter(path="secret/app/db").exists()  # "last read" is never pruned
    assert list(IngestMark.objects.values_list("path", flat=True)) == ["/var/log/openbao/audit.log"]
    entry = AuditEntry.objects.get(action="usage.rollup.pruned")
    assert entry.actor_name == retention.ACTOR
    assert entry.data == {
        "before": "2026-10-21T12:00:00.000000Z",
        "rows": 2,
        "marks": 1,
        "retention_days": 30,
    }


def test_nothing_old_means_nothing_deleted_and_no_audit_entry(reads, settings):
    settings.USAGE_RETENTION_DAYS = 30
    reads({(2, "secret/app/db", "alice"): 4})
    assert retention.prune(NOW) == 0
    assert HourlyAccess.objects.count() == 1
    assert not AuditEntry.objects.filter(action="usage.rollup.pruned").exists()


def test_beat_prunes_daily_with_the_default_retention():
    assert settings.CELERY_BEAT_SCHEDULE["usage-prune"] == {"task": "usage.prune", "schedule": 86400.0}
    assert settings.USAGE_RETENTION_DAYS == 400  # longer than the pages' longest range (366 days)
    HourlyAccess.objects.create(
        hour=HOUR - timedelta(days=401), path="secret/x", identity="i", operation="read", count=1
    )
    assert tasks.prune.apply().get() == 1
    assert not HourlyAccess.objects.exists()
