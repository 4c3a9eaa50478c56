"""The beats as services: the scheduler starts what is due, the detector alerts on what was
missed, the reconciler frees dead workers' leases and re-queues what nobody picked up."""

from datetime import timedelta

import pytest
from django.utils import timezone

from secrets_admin.alerts.models import Alert
from secrets_admin.audit.models import AuditEntry
from secrets_admin.rotation.models import RotationRun, RotationStep
from secrets_admin.rotation.services import reconcile, scheduler

pytestmark = pytest.mark.django_db


def test_the_scheduler_starts_due_secrets_once(make_secret):
    due = make_secret("secret/beat/due", next_due=timezone.now() - timedelta(minutes=1))
    make_secret("secret/beat/later", next_due=timezone.now() + timedelta(days=3))
    assert scheduler.start_due()["started"] == 1
    assert scheduler.start_due()["started"] == 0  # its run is active
    run = RotationRun.objects.get()
    assert run.secret == due and run.reason == "schedule" and run.strategy == "blue-green"


def test_the_scheduler_leaves_a_secret_whose_last_run_failed_to_a_person(make_secret):
    secret = make_secret("secret/beat/due", next_due=timezone.now() - timedelta(minutes=1))
    RotationRun.objects.create(secret=secret, strategy="blue-green", state="needs_person")
    assert scheduler.start_due()["started"] == 0


def test_a_missed_rotation_warns_then_turns_critical(make_secret, settings):
    settings.ROTATION_MISSED_GRACE_HOURS = 24
    secret = make_secret("secret/beat/late", next_due=timezone.now() - timedelta(hours=2))
    make_secret("secret/beat/fresh", next_due=timezone.now() - timedelta(minutes=5))  # the scheduler's turn
    assert scheduler.detect_missed() == {"warning": 1, "critical": 0}
    alert = Alert.objects.get(event="rotation.missed")
    assert alert.severity == "warning" and alert.target_id == str(secret.pk)
    secret.next_due = timezone.now() - timedelta(hours=30)
    secret.save()
    assert scheduler.detect_missed() == {"warning": 0, "critical": 1}
    alert = Alert.objects.get(event="rotation.missed")  # the same alert, escalated
    assert alert.severity == "critical"


def test_the_reconciler_takes_over_an_expired_lease(make_secret):
    secret = make_secret("secret/beat/key")
    run = RotationRun.objects.create(
        secret=secret, strategy="blue-green", state="running", step="set",
        lease_owner="dead-worker", lease_expires_at=timezone.now() - timedelta(seconds=5),
    )  # fmt: skip
    RotationStep.objects.create(run=run, name="set", started_at=timezone.now() - timedelta(minutes=1))
    assert reconcile.reconcile() == {"resumed": 1, "requeued": 0}
    run.refresh_from_db()
    assert (run.state, run.step, run.lease_owner) == ("running", "set", "")
    assert RotationStep.objects.get(run=run).ok is False
    entry = AuditEntry.objects.get(action="rotation.run.resumed")
    assert entry.data == {"step": "set", "worker": "dead-worker"}
    assert reconcile.reconcile() == {"resumed": 0, "requeued": 0}  # queued once; not again at once


def test_the_reconciler_requeues_runs_nobody_picked_up(make_secret):
    secret = make_secret("secret/beat/key")
    run = RotationRun.objects.create(secret=secret, strategy="blue-green")
    assert reconcile.reconcile()["requeued"] == 0  # its own message may still be on the way
    RotationRun.objects.filter(pk=run.pk).update(updated_at=timezone.now() - timedelta(minutes=1))
    assert reconcile.reconcile()["requeued"] == 1
