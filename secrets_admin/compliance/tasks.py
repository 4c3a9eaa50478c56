"""Celery tasks: thin wrappers over secrets_admin.compliance.services."""

from celery import shared_task

from secrets_admin.compliance.services import digest


@shared_task(name="compliance.weekly_digest")
def weekly_digest() -> dict:
    """Beat, Mondays 07:00 UTC: this week's snapshot, mailed to the managers (once per week)."""
    snapshot = digest.send_weekly_digest()
    return {"week": str(snapshot.week), "recipients": snapshot.recipients} if snapshot else {"sent": False}
