"""The periodic `audit.verify` task on a real Celery worker (the session's Redis/Valkey broker)."""

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.db import transaction

from console.celery import app
from secrets_admin.audit import services, tasks
from secrets_admin.audit.models import AuditCheckpoint, AuditEntry
from tests.audit.conftest import THING_DONE, tamper


def test_beat_runs_it_hourly_and_a_full_check_daily():
    entries = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "audit.verify"]
    assert sorted((e["schedule"], e.get("kwargs", {})) for e in entries) == [
        (3600.0, {}),
        (86400.0, {"full": True}),
    ]


@pytest.mark.django_db(transaction=True)
def test_the_task_verifies_on_a_real_worker_and_reports_a_break(servers):
    with transaction.atomic():
        for i in range(5):
            services.record(THING_DONE, actor="celery:test", data={"i": i})
    with start_worker(app, perform_ping_check=False, shutdown_timeout=30):
        assert tasks.verify.delay(full=True).get(timeout=60) == {
            "ok": True,
            "entries": 5,
            "head": 5,
            "broken_at": None,
        }
        tamper("UPDATE audit_auditentry SET actor_name = 'mallory' WHERE sequence = 3")
        assert tasks.verify.delay(full=True).get(timeout=60)["broken_at"] == 3
    assert list(AuditCheckpoint.objects.order_by("id").values_list("ok", "sequence", "broken_at")) == [
        (True, 5, None),
        (False, 2, 3),
    ]
    assert AuditEntry.objects.count() == 5  # verifying writes no audit entries
