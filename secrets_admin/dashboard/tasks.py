"""Celery tasks: thin wrappers over the services."""

from celery import shared_task

from secrets_admin.dashboard.services import snapshot


@shared_task(name="dashboard.snapshot")
def recompute_snapshot() -> bool:
    """Recompute the dashboard's stored figures (beat, every 30 s): what no event announces
    (a new authenticator, a verification, the status beat's due dates) is at most that old."""
    return snapshot.refresh("beat")
