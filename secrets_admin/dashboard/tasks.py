"""Celery tasks: thin wrappers over the services."""

from celery import shared_task

from secrets_admin.dashboard.services import snapshot


@shared_task(name="dashboard.snapshot")
def recompute_snapshot() -> bool:
    """Recompute every stored figure set (beat, every 30 s): what no event announces (a new
    authenticator, a verification, the status beat's due dates, the calendar, the compliance
    scores) is at most that old."""
    snapshot.recompute(names=(snapshot.PLANNING,))  # the slow set: the beat's alone, no lock
    return snapshot.refresh("beat")  # the live set, coalesced with events; publishes the topic
