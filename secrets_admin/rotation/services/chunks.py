"""Rotating many secrets at once: the scheduler's path (`start_runs`, task `rotation.advance_chunk`).

A run costs the same backend calls either way; what a run alone pays on top is its own
transactions, each a durable commit (an fsync, several ms on a busy disk: more than a KV v2
rotation's OpenBao calls). Here many runs share them, with every guarantee of the one-run path:

    start_runs(secrets)      a transaction per ROTATION_CHUNK_SIZE secrets: their pending runs
                             (the intent, with their tokens) and one `rotation.run.started`
                             entry each; that chunk of run ids is queued after its commit
    advance_chunk(run_ids)   one transaction claims the lease of every run it can (a run leased
                             elsewhere, ended or not due is left alone); the runs are split in
                             ROTATION_CHUNK_LANES lanes; then, step by step, lane after lane:
        run the step         for each run of the lane at that step, one after the other, no
                             transaction open (the lease is renewed, in one UPDATE, if it runs long)
        record outcomes      one transaction for the lane: the runs move on (only those still
                             leased to us), their step rows, a `rotation.step.finished` entry
                             each; the last step also finishes them (`rotation.run.finished`, the
                             secrets' due dates); a failed step goes through the one-run outcome.
                             It commits on the recording thread (recorder.py) while the next
                             lane's step runs: the fsync waits overlap the backend calls

Each run is recorded at a step before that step's backend calls start, exactly as in engine.py,
so a worker that dies mid-chunk leaves every run where the reconciler can resume it alone
(`rotation.advance`): the steps are idempotent by run token and none is replayed past a later one.
"""

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from secrets_admin.audit.services import actor_name, record_many
from secrets_admin.rotation import actions, hooks, live
from secrets_admin.rotation.crashpoints import crash_point
from secrets_admin.rotation.models import RotationRun, RotationStep
from secrets_admin.rotation.services import outcomes, recorder
from secrets_admin.rotation.services.engine import NEXT, lease_seconds, new_owner, run_step
from secrets_admin.rotation.services.rows import update_each
from secrets_admin.rotation.services.runs import RotationRefused, check_rotatable, start_run
from secrets_admin.rotation.strategies.base import STEPS

log = logging.getLogger(__name__)
ENGINE = "celery:rotation"
Running = RotationRun.State.RUNNING


def chunk_size() -> int:
    return max(1, int(getattr(settings, "ROTATION_CHUNK_SIZE", 50)))


def start_runs(secrets, *, actor, reason: str) -> tuple[list[RotationRun], dict]:
    """Pending runs for `secrets` (system actors: the scheduler, campaigns), a short audited
    transaction per chunk, each chunk queued after its commit. Returns (runs, {"refused": n, "busy": n}): a
    secret no strategy may rotate is refused, one with an active run is busy (the one-active-run
    constraint decides; should a run appear meanwhile, each secret is started alone instead)."""
    from secrets_admin.schedule.planner import Plan

    secrets = list(secrets)
    plan = Plan(secret_ids=[s.pk for s in secrets])
    counts = {"refused": 0, "busy": 0}
    busy = set(
        RotationRun.objects.filter(secret__in=secrets, state__in=RotationRun.ACTIVE).values_list(
            "secret_id", flat=True
        )
    )
    rows = []
    for secret in secrets:
        if secret.pk in busy:
            counts["busy"] += 1
            continue
        policy = plan.effective(secret)
        try:
            name = check_rotatable(secret, None, policy) if policy is not None else None
        except RotationRefused as exc:
            log.info("not rotating %s: %s", secret, exc)
            name = None
        if name is None:
            counts["refused"] += 1
            continue
        rows.append(_pending(secret, name, policy, actor, reason))
    runs = []
    size = chunk_size()
    for i in range(0, len(rows), size):  # a transaction per chunk: workers start on the first
        runs += _start_chunk(rows[i : i + size], actor, reason, counts)
    return runs, counts


def _start_chunk(rows: list[RotationRun], actor, reason: str, counts: dict) -> list[RotationRun]:
    try:
        with transaction.atomic():
            runs = RotationRun.objects.bulk_create(rows)
            started = []
            for run in runs:
                data = {
                    "secret": str(run.secret),
                    "strategy": run.strategy,
                    "reason": reason,
                    "token": run.token,
                }
                started.append((actions.RUN_STARTED, run, data))
            record_many(started, actor=actor)
            ids = [run.pk for run in runs]
            transaction.on_commit(lambda: _enqueue(ids))
    except IntegrityError:  # a run of one of them started meanwhile: each alone, the constraint decides
        for row in rows:
            row.pk = None
        return _one_by_one([row.secret for row in rows], actor, reason, counts)
    return runs


def _pending(secret, strategy: str, policy, actor, reason: str) -> RotationRun:
    from secrets_admin.rotation.services.runs import _overlap_hours

    attempts = int(getattr(policy, "max_attempts", None) or settings.ROTATION_MAX_ATTEMPTS)
    return RotationRun(
        secret=secret, strategy=strategy, reason=reason, actor_name=actor_name(actor), max_attempts=attempts,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        state_data={"overlap_hours": _overlap_hours(policy)},
    )  # fmt: skip


def _one_by_one(secrets, actor, reason, counts) -> list[RotationRun]:
    runs = []
    for secret in secrets:
        try:
            runs.append(start_run(secret, actor=actor, reason=reason))
        except RotationRefused as exc:
            counts["busy" if "active rotation run" in str(exc) else "refused"] += 1
    return runs


def _enqueue(ids: list[int]) -> None:
    from secrets_admin.rotation.tasks import advance_chunk

    try:
        advance_chunk.delay(ids)
    except Exception:  # the broker is away: the reconciler queues the runs nobody claimed
        log.warning("could not queue %d rotation runs; the reconciler will", len(ids))


def claim_many(run_ids: list[int], owner: str, now) -> list[RotationRun]:
    """Lease every run of `run_ids` that is active, free and due, in one transaction (rows are
    locked, skipping those another worker is claiming); returns them with their secrets."""
    free = Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now)
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    with transaction.atomic():
        candidates = RotationRun.objects.filter(free & due, pk__in=run_ids, state__in=RotationRun.ACTIVE)
        ids = list(candidates.select_for_update(skip_locked=True).order_by("pk").values_list("pk", flat=True))
        if not ids:
            return []
        fields = {"state": Running, "lease_owner": owner, "next_attempt_at": None, "updated_at": now}
        RotationRun.objects.filter(pk__in=ids).update(
            lease_expires_at=now + timedelta(seconds=lease_seconds()), **fields
        )
        RotationRun.objects.filter(pk__in=ids, started_at__isnull=True).update(started_at=now)
        runs = list(
            RotationRun.objects.select_related("secret__rotation_policy").filter(pk__in=ids).order_by("pk")
        )
        _open_rows(runs, now)
        return runs


def _open_rows(runs: list[RotationRun], now) -> None:
    """Each run's step row for the step it is about to run, open (ok empty) until its outcome:
    a row left open says the worker stopped during that step (the reconciler closes it)."""
    rows = [RotationStep(run=run, name=run.step, attempt=run.attempt + 1, started_at=now) for run in runs]
    for run, row in zip(runs, RotationStep.objects.bulk_create(rows), strict=True):
        run._open_row = row


def advance_chunk(run_ids: list[int], *, owner: str | None = None) -> dict:
    """Run the steps left in every run of `run_ids` this worker can lease, step by step, one
    transaction per step and lane. Lanes (ROTATION_CHUNK_LANES, disjoint runs) take turns: while
    one lane's step runs against the backends, the previous lane's outcomes commit on the
    recording thread (services/recorder.py), and a lane's next step waits for its own outcome.
    Returns counts by the state the runs ended in."""
    owner = owner or new_owner()
    runs = claim_many(list(run_ids), owner, timezone.now())
    counts = {"skipped": len(set(run_ids)) - len(runs)}
    if runs:
        hooks.prefetch([run.secret for run in runs])
    width = -(-len(runs) // recorder.lanes()) or 1
    lanes = [runs[i : i + width] for i in range(0, len(runs), width)]
    pending = [None] * len(lanes)
    leased = [time.monotonic()] * len(lanes)  # when each lane's leases were last renewed (at most)
    try:
        for name in STEPS:
            for i, lane in enumerate(lanes):
                recorder.wait([pending[i]])  # this lane's previous step is committed
                pending[i] = None
                batch = [run for run in lane if _at(run, name, owner)]
                # A lane idle while the other's step ran long renews before its first call.
                done = _step_batch(batch, name, owner, leased[i]) if batch else []
                if done:
                    leased[i] = time.monotonic()  # the recording renews them
                    pending[i] = recorder.submit(_record, done, name, owner)
    finally:
        recorder.wait(pending)
    for run in runs:
        counts[run.state] = counts.get(run.state, 0) + 1
    lost = [run.pk for run in runs if run.lease_owner == owner]
    if lost:  # still leased to us but not ended: a lost lease stopped them; let go of the rest
        RotationRun.objects.filter(pk__in=lost, lease_owner=owner).update(
            lease_owner="", lease_expires_at=None
        )
    return counts


def _at(run: RotationRun, name: str, owner: str) -> bool:
    return run.step == name and run.state == Running and run.lease_owner == owner


def _step_batch(batch: list[RotationRun], name: str, owner: str, renewed: float) -> list[tuple]:
    """Step `name` of each run of the batch, no transaction open; returns the successes (to be
    recorded together). A failure is recorded at once through the one-run outcome. The batch's
    leases are renewed (one UPDATE) whenever a third of the lease passed since `renewed`."""
    done = []
    for run in batch:
        if time.monotonic() - renewed > lease_seconds() / 3:
            batch = _renew(batch, owner)
            renewed = time.monotonic()
            if run not in batch:
                continue
        row = run._open_row
        row.started_at = timezone.now()
        state, error, elapsed = run_step(run, name)
        if error is None:
            done.append((run, row, state, elapsed))
        else:
            outcomes.step_failed(run, row, error, owner=owner, duration_ms=elapsed)
    return done


def _renew(batch: list[RotationRun], owner: str) -> list[RotationRun]:
    """Renew the lease of every run of the batch in one UPDATE; returns the runs still ours."""
    now = timezone.now()
    ids = [run.pk for run in batch]
    ours = RotationRun.objects.filter(pk__in=ids, lease_owner=owner, state=Running)
    ours.update(lease_expires_at=now + timedelta(seconds=lease_seconds()), updated_at=now)
    kept = set(ours.values_list("pk", flat=True))
    for run in batch:
        if run.pk not in kept:
            log.warning("rotation run %s: lease lost before step %s; stopping here", run.pk, run.step)
            run.lease_owner = ""
    return [run for run in batch if run.pk in kept]


def _record(done: list[tuple], name: str, owner: str) -> None:
    """One transaction for a batch's successful step: move the runs still leased to us, close
    their step rows, write their audit entries and open the next step's rows; the last step
    finishes them."""
    crash_point(f"recording:{name}")  # tests: die with this lane's outcomes not yet committed
    now = timezone.now()
    following = NEXT[name]
    final = following == "done"
    with transaction.atomic():
        ids = [run.pk for run, *_ in done]
        ours = set(
            RotationRun.objects.select_for_update()
            .filter(pk__in=ids, lease_owner=owner, state=Running)
            .values_list("pk", flat=True)
        )
        moved, rows, entries = [], [], []
        for run, row, state, elapsed in done:
            outcomes.fill_row(row, ok=True, duration_ms=elapsed, facts=outcomes.step_facts(state))
            rows.append(row)
            if run.pk not in ours:
                run.lease_owner = ""  # cancelled or taken over: its step row stays, nothing moves
                continue
            for field, value in outcomes.done_fields(state, following, now).items():
                setattr(run, field, value)
            moved.append(run)
            data = {
                "step": name,
                "attempt": row.attempt,
                "duration_ms": elapsed,
                **outcomes.step_facts(state),
            }
            entries.append((actions.STEP_FINISHED, run, data))
        record_many(entries, actor=ENGINE)
        update_each(rows, ["ok", "error", "duration_ms", "started_at", "finished_at", "facts"])
        if moved:
            update_each(moved, list(outcomes.done_fields({}, following, now)))
            if final:
                outcomes.finished_many(moved, now)
            else:
                _open_rows(moved, now)
            last = moved[-1]
            shown = (last.state, last.step)
            transaction.on_commit(lambda: live.publish_run(last.pk, final=final, moved=shown))
