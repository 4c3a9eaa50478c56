"""Celery tasks: thin wrappers over the services."""

from celery import shared_task

from secrets_admin.dashboard.services import age_counts, refresh, snapshot


@shared_task(name="dashboard.live_refresh", ignore_result=True)
def refresh_live(reason: str = "") -> list[str]:
    """Recompute the parts of the live set that events marked, store them and publish
    `dashboard.tiles` (queued by dashboard.live.changed, at most one queued at a time)."""
    return refresh.run(reason)


@shared_task(name="dashboard.snapshot")
def recompute_snapshot() -> bool:
    """Recompute every stored figure set (beat, every 30 s): what no event announces (a new
    authenticator, a verification, the status beat's due dates, the calendar, the compliance
    scores) is at most that old."""
    snapshot.recompute(names=(snapshot.PLANNING,))  # the slow set: the beat's alone, no lock
    return bool(refresh.run("beat", every_part=True))  # the live set, under the events' lock


@shared_task(name="dashboard.age_reconcile")
def reconcile_age_counts() -> int:
    """Rebuild the age histogram's counters from a scan of the secrets (beat, every 15 minutes):
    the triggers keep them exact, so this only compacts their appended rows, and repairs (and
    logs) any drift, e.g. rows loaded with triggers off. Returns the (kind, day) counts fixed."""
    return age_counts.rebuild()
