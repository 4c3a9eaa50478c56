from celery import shared_task

from secrets_admin.audit import services


@shared_task(name="audit.verify")
def verify(full: bool = False) -> dict:
    """Beat's periodic chain check (incremental hourly, full daily). A break is logged at
    CRITICAL and handed to services.raise_chain_alert(); the result is for the task log."""
    outcome = services.verify(full=bool(full))
    return {
        "ok": outcome.ok,
        "entries": outcome.entries,
        "head": outcome.last,
        "broken_at": outcome.broken_at,
    }
