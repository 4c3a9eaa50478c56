"""The engine on its own (no worker): steps in order, the step log, retries with back-off, the
lease, needs-a-person with its alerts. Celery-driven runs and crashes are in test_crash.py."""

from datetime import timedelta

import pytest
from django.utils import timezone

from secrets_admin.alerts.models import Alert
from secrets_admin.audit.models import AuditEntry
from secrets_admin.rotation.models import RotationRun
from secrets_admin.rotation.services import engine, start_run
from tests.rotation.strategies import StepFailed

pytestmark = pytest.mark.django_db


def _run(make_secret, **fields):
    secret = make_secret("secret/engine/key")
    return RotationRun.objects.create(secret=secret, strategy="counting", **fields)


def test_a_run_goes_through_the_four_steps_once_each(counting, make_secret):
    run = _run(make_secret)
    result = engine.advance(run.pk)
    run.refresh_from_db()
    assert result["state"] == run.state == "finished" and run.step == "done", run.error
    assert run.state_data == {f"{s}_calls": 1 for s in ("create", "set", "test", "finish")} | {
        "new_version_id": "v-" + run.token[:6]
    }
    assert run.new_version_id == "v-" + run.token[:6]
    assert [(s.name, s.ok) for s in run.steps.all()] == [
        (n, True) for n in ("create", "set", "test", "finish")
    ]
    assert all(s.duration_ms is not None for s in run.steps.all())
    assert run.lease_owner == "" and run.lease_expires_at is None
    run.secret.refresh_from_db()
    assert run.secret.last_rotated == run.finished_at and run.secret.next_due > timezone.now()
    actions = list(AuditEntry.objects.filter(target_id=str(run.pk)).values_list("action", flat=True))
    assert actions.count("rotation.step.finished") == 4 and "rotation.run.finished" in actions


def test_a_finished_run_has_the_next_sync_compare_its_secret_in_full(counting, make_secret):
    """last_rotated is written outside the sync: the row's sync digest is cleared with it."""
    run = _run(make_secret)
    type(run.secret).objects.filter(pk=run.secret_id).update(remote_digest="0" * 32)
    engine.advance(run.pk)
    run.secret.refresh_from_db()
    assert run.secret.last_rotated is not None and run.secret.remote_digest == ""


def test_a_finished_run_is_not_run_again(counting, make_secret):
    run = _run(make_secret)
    engine.advance(run.pk)
    assert engine.advance(run.pk)["state"] == "skipped"
    run.refresh_from_db()
    assert run.steps.count() == 4 and run.state_data["create_calls"] == 1


def test_a_live_lease_keeps_other_workers_out(counting, make_secret):
    run = _run(make_secret)
    assert engine.claim(run.pk, "worker-a")
    assert engine.advance(run.pk)["state"] == "skipped"
    RotationRun.objects.filter(pk=run.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert engine.advance(run.pk)["state"] == "finished"  # an expired lease is free to take


def test_a_transient_failure_waits_its_back_off_and_resumes_at_that_step(counting, make_secret, settings):
    settings.ROTATION_RETRY_BASE_SECONDS = 60
    counting.failures["test"] = [StepFailed("provider unreachable")]
    run = _run(make_secret)
    engine.advance(run.pk)
    run.refresh_from_db()
    assert (run.state, run.step, run.attempt) == ("retrying", "test", 1)
    assert run.next_attempt_at > timezone.now() + timedelta(seconds=50)
    assert run.error == "provider unreachable"
    alert = Alert.objects.get(event="rotation.failed", state="open")
    assert alert.severity == "warning" and "provider unreachable" in alert.facts["error"]
    assert engine.advance(run.pk)["state"] == "skipped"  # not due yet
    RotationRun.objects.filter(pk=run.pk).update(next_attempt_at=timezone.now())
    engine.advance(run.pk)
    run.refresh_from_db()
    assert run.state == "finished"
    assert run.state_data["create_calls"] == 1 and run.state_data["set_calls"] == 1  # resumed at "test"
    assert [(s.name, s.ok) for s in run.steps.all()][2:4] == [("test", False), ("test", True)]
    assert not Alert.objects.filter(event="rotation.failed", state="open").exists()  # resolved


def test_retries_are_bounded_then_a_person_is_needed(counting, make_secret, settings):
    settings.ROTATION_RETRY_BASE_SECONDS = 0
    counting.failures["create"] = [StepFailed(f"unreachable {i}") for i in range(3)]
    run = _run(make_secret, max_attempts=3)
    for _ in range(3):
        engine.advance(run.pk)
    run.refresh_from_db()
    assert (run.state, run.attempt, run.step) == ("needs_person", 3, "create")
    assert engine.advance(run.pk)["state"] == "skipped"
    assert run.steps.filter(ok=False).count() == 3
    exhausted = Alert.objects.get(event="rotation.retries_exhausted")
    assert exhausted.severity == "critical" and exhausted.target_id == str(run.secret_id)
    assert AuditEntry.objects.filter(action="rotation.run.failed", target_id=str(run.pk)).count() == 1


def test_a_permanent_failure_stops_at_once(counting, make_secret):
    counting.failures["set"] = [StepFailed("the provider refused the key", permanent=True)]
    run = _run(make_secret)
    engine.advance(run.pk)
    run.refresh_from_db()
    assert (run.state, run.step, run.attempt) == ("failed", "set", 1)
    assert not Alert.objects.filter(event="rotation.retries_exhausted").exists()


def test_start_run_refuses_a_second_active_run(counting, make_secret):
    from secrets_admin.rotation.services import RunAlreadyActive

    secret = make_secret("secret/engine/key")
    first = start_run(secret, actor="cli", reason="cli", strategy="counting")
    with pytest.raises(RunAlreadyActive, match=f"#{first.pk}"):
        start_run(secret, actor="cli", reason="cli", strategy="counting")


def test_start_run_refuses_a_secret_without_policy(make_secret):
    from secrets_admin.rotation.services import PolicyForbids

    secret = make_secret("secret/engine/key", kind="generic")
    secret.rotation_policy = None
    secret.save()
    with pytest.raises(PolicyForbids, match="has no rotation policy"):
        start_run(secret, actor="cli", reason="cli")
    assert not RotationRun.objects.exists()
