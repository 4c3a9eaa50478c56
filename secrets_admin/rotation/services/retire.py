"""Retiring old versions after blue-green's overlap (the `rotation.retire` beat).

The provider is told through the hook and the backend drops the old version outside any
transaction; a short transaction then marks the run retired with its audit entry. Both calls are
idempotent, so a retire that crashed or raced another beat is simply done again.
"""

import logging

from django.db import transaction
from django.utils import timezone

from secrets_admin.audit.services import record
from secrets_admin.backends import BackendError, get_backend
from secrets_admin.rotation import actions
from secrets_admin.rotation.models import RotationRun
from secrets_admin.rotation.strategies import get_strategy
from secrets_admin.rotation.strategies.base import StepContext, StepFailed

log = logging.getLogger(__name__)
RETIRER = "celery:rotation.retire"


def retire_due(now=None, limit: int = 200) -> dict:
    now = now or timezone.now()
    runs = RotationRun.objects.select_related("secret").filter(
        state=RotationRun.State.FINISHED, retired_at__isnull=True, retire_after__lte=now
    )[:limit]
    counts = {"retired": 0, "failed": 0}
    for run in runs:
        counts["retired" if retire_run(run) else "failed"] += 1
    return counts


def retire_run(run: RotationRun) -> bool:
    """Retire the old version of a finished run; False (logged, tried again next beat) on failure."""
    version = run.state_data.get("retire_version_id")
    try:
        ctx = StepContext(
            run=run, secret=run.secret, backend=get_backend(run.secret.backend), token=run.token
        )
        ctx.state = dict(run.state_data)
        get_strategy(run.strategy).retire(ctx)
    except (StepFailed, BackendError) as exc:
        log.warning("rotation run %s: old version %s not retired yet: %s", run.pk, version, exc)
        return False
    with transaction.atomic():
        done = RotationRun.objects.filter(pk=run.pk, retired_at__isnull=True).update(
            retired_at=timezone.now()
        )
        if done:
            record(actions.VERSION_RETIRED, actor=RETIRER, target=run, data={"version_id": str(version)})
    return True
