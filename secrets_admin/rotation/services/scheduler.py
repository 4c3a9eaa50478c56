"""The scheduler beats: start what is due (`rotation.schedule`), alert on what did not rotate
(`rotation.missed`).

Due secrets come from `secrets_admin.schedule.planner.due_secrets(now)` when that module is
installed (windows, overrides, staggering of linked secrets); until then, from `next_due <= now`.
A secret whose last run failed or needs a person is not started again by the schedule: a person
looks first (the missed-rotation alert keeps saying it is overdue).
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from secrets_admin.alerts import events
from secrets_admin.alerts.services.alerting import raise_alert
from secrets_admin.inventory.models import Secret
from secrets_admin.rotation.models import RotationRun
from secrets_admin.rotation.services.chunks import start_runs

log = logging.getLogger(__name__)
SCHEDULER = "celery:rotation.schedule"
DETECTOR = "celery:rotation.missed"
MISSED_AFTER = timedelta(hours=1)  # overdue this long with no rotation: the schedule missed it
BATCH = 500


def due_secrets(now):
    try:
        from secrets_admin.schedule.planner import due_secrets as planned
    except ImportError:
        return Secret.objects.filter(next_due__lte=now, rotation_policy__isnull=False).exclude(
            status="missing"
        )
    return planned(now)


def _startable(secrets):
    last = (
        RotationRun.objects.filter(secret=OuterRef("pk")).order_by("-created_at", "-id").values("state")[:1]
    )
    return secrets.annotate(last_run=Subquery(last)).filter(
        Q(last_run__isnull=True) | Q(last_run__in=[RotationRun.State.FINISHED, RotationRun.State.CANCELLED])
    )


def start_due(now=None, *, actor=SCHEDULER) -> dict:
    """Start a run for each due secret; returns counts (started, refused: policy or strategy
    cannot, busy: a run is active)."""
    now = now or timezone.now()
    due = list(_startable(due_secrets(now)).order_by("next_due", "id")[:BATCH])
    if not due:
        return {"started": 0, "refused": 0, "busy": 0}
    # One transaction for all their runs, worked in chunks (services/chunks.py).
    runs, counts = start_runs(due, actor=actor, reason=RotationRun.Reason.SCHEDULE)
    return {"started": len(runs), **counts}


def missed_key(secret) -> str:
    return f"{events.ROTATION_MISSED}:inventory.secret:{secret.pk}"


def detect_missed(now=None) -> dict:
    """Raise rotation.missed for secrets overdue by more than MISSED_AFTER: warning, critical once
    overdue by their policy's grace period (ROTATION_MISSED_GRACE_HOURS until edited); exempt
    secrets are left out. A finished run resolves it (engine outcomes)."""
    from secrets_admin.schedule.planner import Plan

    now = now or timezone.now()
    plan = Plan()  # each secret's grace period and exemption (the schedule's policy settings)
    overdue = (
        Secret.objects.filter(next_due__lte=now - MISSED_AFTER, rotation_policy__isnull=False)
        .exclude(status="missing")
        .order_by("next_due")[:BATCH]
    )
    counts = {"warning": 0, "critical": 0}
    for secret in overdue:
        effective = plan.effective(secret)
        if effective is not None and effective.exempt_at(now):
            continue  # exempt, with a reason and an end date on record: not a missed rotation
        hours = settings.ROTATION_MISSED_GRACE_HOURS if effective is None else effective.grace_hours
        grace = timedelta(hours=hours)
        late = now - secret.next_due
        severity = events.Severity.CRITICAL if late >= grace else events.Severity.WARNING
        last = RotationRun.objects.filter(secret=secret).order_by("-created_at").first()
        facts = {
            "path": str(secret),
            "due": secret.next_due.isoformat(),
            "hours_late": int(late.total_seconds() // 3600),
            "last_run": last.pk if last else None,
            "last_run_state": last.state if last else None,
        }
        raise_alert(
            events.ROTATION_MISSED,
            subject=f"{secret} was due {secret.next_due:%Y-%m-%d %H:%M} UTC and has not rotated",
            facts=facts,
            severity=severity,
            key=missed_key(secret),
            target=secret,
            actor=DETECTOR,
        )  # fmt: skip
        counts[severity] += 1
    return counts
