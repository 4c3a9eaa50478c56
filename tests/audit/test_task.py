"""The ledger's beat jobs on a real Celery worker (the session's Redis/Valkey broker)."""

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.db import transaction

from console.celery import app
from secrets_admin.audit import anchors, services, tasks
from secrets_admin.audit.models import AuditAnchor, AuditCheckpoint, AuditEntry
from tests.audit.conftest import THING_DONE, tamper


def test_beat_links_every_10_s_anchors_every_30_s_verifies_daily_and_settles_intents_every_minute():
    schedule = {
        entry["task"]: entry for entry in settings.CELERY_BEAT_SCHEDULE.values() if "audit" in entry["task"]
    }
    assert schedule["audit.sequence"]["schedule"] == 10.0
    assert schedule["audit.anchor"]["schedule"] == settings.AUDIT_ANCHOR_INTERVAL == 30
    assert (
        settings.AUDIT_ANCHOR_INTERVAL * 2 <= 60
    )  # a run may fail and be retried, and still anchor within a minute
    assert (schedule["audit.verify"]["schedule"], schedule["audit.verify"]["kwargs"]) == (
        86400.0,
        {"full": True},
    )
    assert schedule["audit.reconcile_intents"]["schedule"] == 60.0


@pytest.mark.django_db(transaction=True)
def test_the_tasks_link_anchor_and_verify_on_a_real_worker_and_report_a_break(servers):
    with transaction.atomic():
        for i in range(5):
            services.record(THING_DONE, actor="celery:test", data={"i": i})
    with start_worker(app, perform_ping_check=False, shutdown_timeout=30):
        assert tasks.sequence.delay().get(timeout=60) == {"linked": 5, "waiting_before": 5}
        anchored = tasks.anchor.delay().get(timeout=60)
        assert (anchored["ok"], anchored["head"], anchored["anchored"], anchored["stale"]) == (
            True,
            5,
            True,
            False,
        )
        assert tasks.verify.delay(full=True).get(timeout=60) == {
            "ok": True,
            "entries": 5,
            "head": 5,
            "broken_at": None,
        }
        tamper("UPDATE audit_auditentry SET actor_name = 'mallory' WHERE sequence = 3")
        assert tasks.verify.delay(full=True).get(timeout=60)["broken_at"] == 3
        assert (
            tasks.anchor.delay().get(timeout=60)["ok"] is True
        )  # #3 is behind the anchor: only a full run sees it
    assert list(AuditCheckpoint.objects.order_by("id").values_list("ok", "sequence", "broken_at")) == [
        (True, 5, None),
        (False, 2, 3),
    ]
    assert AuditAnchor.objects.filter(ok=True).count() == 3  # anchor run, first full run, second anchor run
    # Linking, anchoring and verifying write no audit entries; the break's alert is the alerts
    # app's (here it also turns off the default email channel, which has nobody to mail).
    ledger_work = AuditEntry.objects.exclude(action__startswith="alerts.")
    assert ledger_work.count() == 5
    assert anchors.latest().sequence == AuditEntry.objects.order_by("-sequence").first().sequence
