"""What the engine writes after a step: each outcome in one short transaction with its audit
entries, its alerts (savepoints, delivered after commit) and the live update after commit.

Every write is conditional on the lease (`lease_owner=owner`, state running): a worker that lost
its run (cancelled, or taken over after its lease ran out) records its step row but moves nothing.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from secrets_admin.alerts import events
from secrets_admin.alerts.models import Alert
from secrets_admin.alerts.services.alerting import raise_alert, resolve_alert
from secrets_admin.audit.services import record, record_many
from secrets_admin.inventory.services.status import NO_FACTS, due_facts, refresh
from secrets_admin.rotation import actions, live
from secrets_admin.rotation.models import RotationRun, RotationStep
from secrets_admin.rotation.services.rows import update_each

log = logging.getLogger(__name__)
ENGINE = "celery:rotation"
Running = RotationRun.State.RUNNING


def backoff(attempt: int) -> float:
    """Seconds before retry number `attempt` (1, 2, ...): base × 2^(attempt-1), capped."""
    base = float(getattr(settings, "ROTATION_RETRY_BASE_SECONDS", 30))
    cap = float(getattr(settings, "ROTATION_RETRY_MAX_SECONDS", 3600))
    return min(cap, base * 2 ** max(0, attempt - 1))


def failed_key(run: RotationRun) -> str:
    return f"{events.ROTATION_FAILED}:inventory.secret:{run.secret_id}"


def exhausted_key(run: RotationRun) -> str:
    return f"{events.ROTATION_RETRIES_EXHAUSTED}:inventory.secret:{run.secret_id}"


def fill_row(row: RotationStep, *, ok: bool, duration_ms: int, error: str = "", facts=None) -> None:
    row.ok, row.error, row.duration_ms, row.finished_at = ok, error, duration_ms, timezone.now()
    row.facts = facts or {}


def _finish_row(row: RotationStep, *, ok: bool, duration_ms: int, error: str = "", facts=None) -> None:
    fill_row(row, ok=ok, duration_ms=duration_ms, error=error, facts=facts)
    if row.pk is None:  # a chunk writes its step rows with their outcome (chunks.py)
        row.save()
    else:
        row.save(update_fields=["ok", "error", "duration_ms", "finished_at", "facts"])


def done_fields(state: dict, next_step: str, now) -> dict:
    """What a run's row becomes when a step succeeded: the next step with a renewed lease, or
    ("done") finished with its new version, the lease let go and the old version's retire time."""
    fields = {"step": next_step, "state_data": state, "attempt": 0, "error": "", "updated_at": now}
    if next_step != "done":
        fields["lease_expires_at"] = now + timedelta(seconds=settings.ROTATION_LEASE_SECONDS)
        return fields
    fields.update(
        state=RotationRun.State.FINISHED,
        finished_at=now,
        new_version_id=str(state.get("new_version_id", ""))[:200],
        lease_owner="",
        lease_expires_at=None,
        retire_after=_retire_after(state),
    )
    return fields


def step_done(run: RotationRun, row, state: dict, *, owner: str, next_step: str, duration_ms: int):
    """The step succeeded: move the run to `next_step` ("done": finished), renewing the lease and
    opening the next step's log row in the same transaction. Returns (run, next row or None)."""
    now = timezone.now()
    fields = done_fields(state, next_step, now)
    done = next_step == "done"
    following = None
    with transaction.atomic():
        _finish_row(row, ok=True, duration_ms=duration_ms, facts=step_facts(state))
        moved = RotationRun.objects.filter(pk=run.pk, lease_owner=owner, state=Running).update(**fields)
        if moved:
            for name, value in fields.items():
                setattr(run, name, value)
            data = {"step": row.name, "attempt": row.attempt, "duration_ms": duration_ms, **step_facts(state)}
            record(actions.STEP_FINISHED, actor=ENGINE, target=run, data=data)
            if done:
                _finished(run, now)
            else:
                following = RotationStep.objects.create(run=run, name=next_step, attempt=1, started_at=now)
        state_now = (run.state, run.step) if moved else None
        transaction.on_commit(lambda: live.publish_run(run.pk, final=done, moved=state_now))
    if not moved:
        run.refresh_from_db()
    return run, following


def _finished(run: RotationRun, now) -> None:
    finished_many([run], now)


def finished_many(runs: list[RotationRun], now) -> None:
    """In the caller's transaction: the secrets of these just-finished runs are rotated (due date
    and status recomputed, saved in one statement), one `rotation.run.finished` entry per run,
    and their open rotation alerts resolved (one query finds them)."""
    # Only a graceful run renews (DueFacts.renewed_until): other strategies skip that lookup.
    renewals = any(run.strategy == "graceful" for run in runs)
    facts = due_facts([run.secret_id for run in runs], renewals=renewals)
    secrets = []
    for run in runs:
        secret = run.secret
        secret.last_rotated = now
        secret.remote_digest = ""  # the next inventory sync compares this row in full again
        refresh(secret, facts=facts.get(secret.pk, NO_FACTS))
        secrets.append(secret)
    update_each(secrets, ["last_rotated", "next_due", "status", "remote_digest"])
    keys, entries = [], []
    for run in runs:
        data = {"secret": str(run.secret), "new_version_id": run.new_version_id, "strategy": run.strategy}
        entries.append((actions.RUN_FINISHED, run, data))
        keys += [
            failed_key(run),
            exhausted_key(run),
            f"{events.ROTATION_MISSED}:inventory.secret:{run.secret_id}",
        ]
    record_many(entries, actor=ENGINE)
    for key in Alert.objects.filter(key__in=keys, state=Alert.State.OPEN).values_list("key", flat=True):
        resolve_alert(key, actor=ENGINE)


def step_failed(run: RotationRun, row, error, *, owner: str, duration_ms: int):
    """The step failed: retry later (back-off), or stop for good (permanent: failed; retries used
    up: needs a person). Alerts: rotation.failed each time, retries_exhausted at the end."""
    now = timezone.now()
    attempt = run.attempt + 1
    reason = error.reason[:1000]
    last = error.permanent or attempt >= run.max_attempts
    fields = {
        "attempt": attempt,
        "error": reason,
        "lease_owner": "",
        "lease_expires_at": None,
        "updated_at": now,
    }
    if last:
        state = RotationRun.State.FAILED if error.permanent else RotationRun.State.NEEDS_PERSON
        fields.update(state=state, finished_at=now)
        wait = None
    else:
        wait = backoff(attempt)
        fields.update(state=RotationRun.State.RETRYING, next_attempt_at=now + timedelta(seconds=wait))
    with transaction.atomic():
        _finish_row(row, ok=False, duration_ms=duration_ms, error=reason)
        moved = RotationRun.objects.filter(pk=run.pk, lease_owner=owner, state=Running).update(**fields)
        if moved:
            for name, value in fields.items():
                setattr(run, name, value)
            data = {"step": row.name, "attempt": attempt, "error": reason, "permanent": error.permanent}
            data["retry_in_seconds"] = wait
            record(actions.STEP_FAILED, actor=ENGINE, target=run, data=data)
            _alert(run, row.name, reason, attempt, last=last)
            if last:
                record(actions.RUN_FAILED, actor=ENGINE, target=run, data={"step": row.name, "error": reason})
            else:
                transaction.on_commit(lambda: _retry_later(run.pk, wait))
        state_now = (run.state, run.step) if moved else None
        transaction.on_commit(lambda: live.publish_run(run.pk, moved=state_now))
    if not moved:
        run.refresh_from_db()
    return run


def _alert(run: RotationRun, step: str, reason: str, attempt: int, *, last: bool) -> None:
    facts = {"run": run.pk, "path": str(run.secret), "step": step, "attempt": attempt,
             "max_attempts": run.max_attempts, "error": reason, "strategy": run.strategy}  # fmt: skip
    raise_alert(
        events.ROTATION_FAILED,
        subject=f"Rotation of {run.secret} failed at step {step} (attempt {attempt} of {run.max_attempts})",
        facts=facts,
        key=failed_key(run),
        target=run.secret,
        actor=ENGINE,
    )
    if last and run.state == RotationRun.State.NEEDS_PERSON:
        raise_alert(
            events.ROTATION_RETRIES_EXHAUSTED,
            subject=f"Rotation of {run.secret} used up its {run.max_attempts} attempts and needs a person",
            facts=facts,
            key=exhausted_key(run),
            target=run.secret,
            actor=ENGINE,
        )


def _retry_later(run_id: int, wait: float) -> None:
    from secrets_admin.rotation.tasks import advance

    try:
        advance.apply_async((run_id,), countdown=wait)
    except Exception:  # the broker is away: the reconciler picks the run up when it is due
        log.warning("could not queue the retry of rotation run %s; the reconciler will", run_id)


def step_facts(state: dict) -> dict:
    """What a step log shows of the run's state: scalars only (the state never holds values)."""
    return {k: v for k, v in state.items() if isinstance(v, str | int | float | bool) or v is None}


def _retire_after(state: dict):
    hours = state.get("overlap_hours")
    if hours is None or not state.get("retire_version_id"):
        return None
    return timezone.now() + timedelta(hours=float(hours))
