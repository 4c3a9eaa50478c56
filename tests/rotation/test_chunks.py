"""The scheduler's path: many runs started in one transaction and worked in chunks, one
transaction per step for the whole chunk, with the one-run path's guarantees (audit entries per
run and step, the lease, failures per run, a killed worker finished by the reconciler)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from secrets_admin.audit.models import AuditEntry
from secrets_admin.backends import get_backend
from secrets_admin.rotation.models import RotationRun
from secrets_admin.rotation.services import chunks, engine, scheduler, start_run
from tests.markers import requires_postgres
from tests.rotation.strategies import StepFailed
from tests.rotation.test_blue_green import _versions
from tests.rotation.workers import finish_with_reconciler, purge_queue, worker_process

STEPS = ["create", "set", "test", "finish"]


def _actions(run) -> list[str]:
    return list(
        AuditEntry.objects.filter(target_id=str(run.pk)).order_by("id").values_list("action", flat=True)
    )


@pytest.mark.django_db
def test_a_chunk_of_kv_keys_rotates_each_once_with_its_log_and_audit(api_key_secret, openbao, moto):
    secrets = [api_key_secret("vault", f"old-{i}") for i in range(5)]
    before = [_versions(s, openbao, moto) for s in secrets]
    runs, counts = chunks.start_runs(secrets, actor="celery:rotation.schedule", reason="schedule")
    assert counts == {"refused": 0, "busy": 0} and len(runs) == 5
    with CaptureQueriesContext(connection) as queries:
        result = chunks.advance_chunk([run.pk for run in runs])
    assert result == {"skipped": 0, "finished": 5}
    commits = sum(1 for q in queries.captured_queries if q["sql"].startswith("RELEASE SAVEPOINT")) + 1
    assert commits < 5 * 5  # the one-run path commits five times per run; here once per step
    store = get_backend("vault")
    for secret, run, versions in zip(secrets, runs, before, strict=True):
        run.refresh_from_db()
        assert (run.state, run.step, run.lease_owner) == ("finished", "done", "")
        assert _versions(secret, openbao, moto) == versions + 1
        assert run.new_version_id == store.current_version(secret.path)
        assert store.read_current(secret.path) not in {f"old-{i}" for i in range(5)}
        assert list(run.steps.values_list("name", "ok")) == [(s, True) for s in STEPS]
        assert all(step.duration_ms is not None for step in run.steps.all())
        actions = _actions(run)
        assert actions[0] == "rotation.run.started" and actions[-1] == "rotation.run.finished"
        assert actions.count("rotation.step.finished") == 4
        secret.refresh_from_db()
        assert secret.last_rotated == run.finished_at and secret.next_due > timezone.now()
    assert chunks.advance_chunk([run.pk for run in runs]) == {"skipped": 5}  # nothing runs twice


@pytest.mark.django_db
def test_a_chunk_leaves_leased_runs_alone_and_fails_runs_one_by_one(counting, make_secret, settings):
    settings.ROTATION_RETRY_BASE_SECONDS = 60
    secrets = [make_secret(f"secret/chunk/k{i}") for i in range(4)]
    runs = [RotationRun.objects.create(secret=s, strategy="counting") for s in secrets]
    assert engine.claim(runs[0].pk, "another-worker")  # busy elsewhere
    counting.failures["test"] = [StepFailed("provider unreachable")]  # the first run to reach test
    result = chunks.advance_chunk([run.pk for run in runs])
    assert result == {"skipped": 1, "retrying": 1, "finished": 2}
    states = {run.pk: run for run in RotationRun.objects.filter(pk__in=[r.pk for r in runs])}
    assert states[runs[0].pk].lease_owner == "another-worker" and not states[runs[0].pk].steps.exists()
    failed = states[runs[1].pk]
    assert (failed.state, failed.step, failed.lease_owner) == ("retrying", "test", "")
    assert list(failed.steps.values_list("name", "ok")) == [("create", True), ("set", True), ("test", False)]
    assert "rotation.step.failed" in _actions(failed)
    assert all(states[run.pk].state == "finished" for run in runs[2:])


@pytest.mark.django_db
def test_start_runs_counts_busy_and_refused_secrets(counting, make_secret):
    busy = make_secret("secret/chunk/busy")
    start_run(busy, actor="cli", reason="cli", strategy="counting")
    refused = make_secret("secret/chunk/no-policy", kind="generic")
    refused.rotation_policy = None
    refused.save()
    fine = make_secret("secret/chunk/fine")
    runs, counts = chunks.start_runs(
        [busy, refused, fine], actor="celery:rotation.schedule", reason="schedule"
    )
    assert [run.secret_id for run in runs] == [fine.pk] and counts == {"refused": 1, "busy": 1}
    assert AuditEntry.objects.filter(action="rotation.run.started", target_id=str(runs[0].pk)).count() == 1


@pytest.mark.django_db
def test_the_scheduler_starts_due_secrets_as_chunks(make_secret):
    due = [
        make_secret(f"secret/chunk/due{i}", next_due=timezone.now() - timedelta(minutes=1)) for i in range(3)
    ]
    assert scheduler.start_due() == {"started": 3, "refused": 0, "busy": 0}
    assert set(RotationRun.objects.values_list("secret_id", flat=True)) == {s.pk for s in due}


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_chunk_leaves_every_run_to_the_reconciler(
    servers, api_key_secret, openbao, moto, tmp_path
):
    purge_queue()
    secrets = [api_key_secret("vault", f"old-{i}") for i in range(3)]
    before = [_versions(s, openbao, moto) for s in secrets]
    marker = tmp_path / "crashed"
    with worker_process(
        servers, tmp_path / "worker-1.log", ROTATION_CRASH_AT="after:finish", ROTATION_CRASH_ONCE=marker
    ) as w:
        runs, _ = chunks.start_runs(secrets, actor="celery:rotation.schedule", reason="schedule")
        assert w.wait_exit() == 137  # promoted the first key, then died before recording it
    for run in runs:
        finish_with_reconciler(run, servers, tmp_path / "worker-2.log")
        assert run.state == "finished", run.error
    for secret, run, versions in zip(secrets, runs, before, strict=True):
        assert _versions(secret, openbao, moto) == versions + 1  # exactly one new version each
        assert run.new_version_id == get_backend("vault").current_version(secret.path)
        assert list(run.steps.values_list("name", "ok"))[-1] == ("finish", True)
    crashed = runs[0]
    assert ("finish", False) in list(crashed.steps.values_list("name", "ok"))
    assert AuditEntry.objects.filter(action="rotation.run.resumed", target_id=str(crashed.pk)).count() == 1
