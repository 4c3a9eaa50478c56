"""The reconciler beat: broker redelivery is not trusted, the database is.

It finds active runs that no worker is moving — a lease that ran out (the worker died or hung),
or a run nobody claimed (its message was lost, or its retry is due) — and queues them again. A
duplicate message is harmless: only one worker can claim the lease.
"""

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from secrets_admin.audit.services import record
from secrets_admin.rotation import actions
from secrets_admin.rotation.models import RotationRun, RotationStep

log = logging.getLogger(__name__)
RECONCILER = "celery:rotation.reconcile"
PICKUP_AFTER = timedelta(seconds=20)  # a queued run older than this that nobody claimed is re-queued
BATCH = 500


def reconcile(now=None) -> dict:
    """Re-queue stalled runs; returns {"resumed": n, "requeued": n}."""
    now = now or timezone.now()
    expired = RotationRun.objects.filter(
        state=RotationRun.State.RUNNING, lease_expires_at__lt=now
    ).values_list("pk", "lease_owner", "lease_expires_at")[:BATCH]
    resumed = [pk for pk, owner, until in expired if _take_over(pk, owner, until)]
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now - PICKUP_AFTER)
    unclaimed = list(
        RotationRun.objects.filter(
            due,
            state__in=RotationRun.ACTIVE,
            lease_expires_at__isnull=True,
            updated_at__lt=now - PICKUP_AFTER,
        ).values_list("pk", flat=True)[:BATCH]
    )
    for pk in {*resumed, *unclaimed}:
        _enqueue(pk)
    return {"resumed": len(resumed), "requeued": len(set(unclaimed) - set(resumed))}


def _take_over(pk: int, owner: str, until) -> bool:
    """Free the lease of a dead worker (only if nobody renewed it meanwhile) and say so in the
    step log and the ledger. The step it was in will run again: every step is idempotent."""
    with transaction.atomic():
        freed = RotationRun.objects.filter(
            pk=pk, state=RotationRun.State.RUNNING, lease_owner=owner, lease_expires_at=until
        ).update(lease_owner="", lease_expires_at=None, updated_at=timezone.now())
        if not freed:
            return False
        run = RotationRun.objects.get(pk=pk)
        RotationStep.objects.filter(run=run, ok__isnull=True).update(
            ok=False, finished_at=timezone.now(), error="the worker stopped during this step; it runs again"
        )
        record(actions.RUN_RESUMED, actor=RECONCILER, target=run, data={"step": run.step, "worker": owner})
    log.warning("rotation run %s: worker %s stopped at step %s; resuming", pk, owner, run.step)
    return True


def _enqueue(pk: int) -> None:
    from secrets_admin.rotation.tasks import advance

    advance.delay(pk)
