"""The engine: run a rotation's steps one at a time, each outside any transaction, under a lease.

    advance(run_id)
      claim the lease          one short transaction: conditional UPDATE (active, lease free or
                               expired, retry due), then the first step's RotationStep row
      for each step left:      (later steps' rows come with the previous step's outcome, which
                               renews the lease: a lost lease stops this worker)
        run the step           no transaction; only the lease is held (network I/O happens here)
        log the outcome        short transaction: next step / retry / needs a person + audit
      release the lease

Broker redelivery is not trusted: the reconciler beat (reconcile.py) finds runs whose lease ran
out, or that nobody picked up, and queues them again; the lease makes a duplicate harmless.
"""

import logging
import os
import socket
import time
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from secrets_admin.backends import BackendError, get_backend
from secrets_admin.rotation.crashpoints import crash_point
from secrets_admin.rotation.models import RotationRun, RotationStep
from secrets_admin.rotation.services import outcomes
from secrets_admin.rotation.strategies import get_strategy
from secrets_admin.rotation.strategies.base import STEPS, StepContext, StepFailed

log = logging.getLogger(__name__)
ENGINE = "celery:rotation"  # the actor name of what the engine does on a run's behalf
NEXT = dict(zip(STEPS, (*STEPS[1:], "done"), strict=True))


def lease_seconds() -> int:
    return int(getattr(settings, "ROTATION_LEASE_SECONDS", 60))


def new_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def claim(run_id: int, owner: str) -> bool:
    """Take the run's lease: only if the run is active, nobody holds a live lease, and a retry
    (if any) is due. One conditional UPDATE, so two workers never both win."""
    with transaction.atomic():
        return _claim(run_id, owner, timezone.now())


def _claim(run_id: int, owner: str, now) -> bool:
    free = Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now)
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    return bool(
        RotationRun.objects.filter(free & due, pk=run_id, state__in=RotationRun.ACTIVE).update(
            state=RotationRun.State.RUNNING,
            lease_owner=owner,
            lease_expires_at=now + timedelta(seconds=lease_seconds()),
            next_attempt_at=None,
            started_at=Coalesce("started_at", Value(now)),
            updated_at=now,
        )
    )


def renew(run_id: int, owner: str) -> bool:
    now = timezone.now()
    return bool(
        RotationRun.objects.filter(pk=run_id, lease_owner=owner, state=RotationRun.State.RUNNING).update(
            lease_expires_at=now + timedelta(seconds=lease_seconds()), updated_at=now
        )
    )


def release(run_id: int, owner: str) -> None:
    RotationRun.objects.filter(pk=run_id, lease_owner=owner).update(lease_owner="", lease_expires_at=None)


def advance(run_id: int, *, owner: str | None = None) -> dict:
    """Run the steps left in run `run_id` while holding its lease. Returns {"run", "state", "step"}
    (state "skipped" when another worker holds it, or it is not active or not due)."""
    owner = owner or new_owner()
    now = timezone.now()
    with transaction.atomic():  # the claim, the run and its first step's log row: one short transaction
        if not _claim(run_id, owner, now):
            return {"run": run_id, "state": "skipped", "step": None}
        run = RotationRun.objects.select_related("secret__rotation_policy").get(pk=run_id)
        row = RotationStep.objects.create(run=run, name=run.step, attempt=run.attempt + 1, started_at=now)
    try:
        while row is not None:
            run, row = _one_step(run, row, owner)  # the next step's row comes with the outcome
        if run.state == RotationRun.State.RUNNING and run.step != "done":
            log.warning("rotation run %s: lease lost before step %s; stopping here", run_id, run.step)
            return {"run": run_id, "state": "lost", "step": run.step}
    finally:
        if run.lease_owner == owner:  # an ended or failed run released it in its outcome already
            release(run_id, owner)
    return {"run": run_id, "state": run.state, "step": run.step}


def _one_step(run: RotationRun, row: RotationStep, owner: str) -> tuple[RotationRun, RotationStep | None]:
    """Run one step and record its outcome; returns the run and the next step's log row (None
    when the run stops here: done, failed, retrying later, or its lease was lost)."""
    name = run.step
    state, error, elapsed = run_step(run, name)
    if error is None:
        return outcomes.step_done(run, row, state, owner=owner, next_step=NEXT[name], duration_ms=elapsed)
    return outcomes.step_failed(run, row, error, owner=owner, duration_ms=elapsed), None


def run_step(run: RotationRun, name: str) -> tuple[dict, StepFailed | None, int]:
    """Step `name` of `run` against its backend, no transaction open: (the run's new state
    facts, the failure or None, milliseconds). Used by advance() and by chunks (many runs)."""
    strategy = get_strategy(run.strategy)
    ctx = StepContext(run=run, secret=run.secret, backend=None, token=run.token, state=dict(run.state_data))
    crash_point(f"before:{name}")
    started = time.monotonic()
    error = None
    try:
        ctx.backend = get_backend(run.secret.backend)
        strategy.step(name)(ctx)
    except StepFailed as exc:
        error = exc
    except BackendError as exc:
        error = StepFailed(_words(exc), permanent=exc.permanent)
    except Exception as exc:  # a bug in a strategy must stop the run, not the worker
        log.exception("rotation run %s: step %s raised", run.pk, name)
        error = StepFailed(f"unexpected error ({type(exc).__name__})", permanent=False)
    crash_point(f"after:{name}")
    return ctx.state, error, int((time.monotonic() - started) * 1000)


def _words(exc: BackendError) -> str:
    """The failure in words for the step log and alerts: the backend's cause ("unreachable",
    "sealed"...) with the message, which adapters keep free of values."""
    return str(exc)[:500]
