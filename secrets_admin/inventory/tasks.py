"""Celery tasks: thin wrappers over the sync service (JSON args: a backend name at most)."""

from celery import shared_task
from django.conf import settings

from secrets_admin.inventory.services.status import do_refresh_status
from secrets_admin.inventory.services.sync import sync_backend

SYSTEM_ACTOR = "celery:inventory.sync"


@shared_task(name="inventory.sync")
def sync(backend: str | None = None) -> dict:
    """Sync one backend, or every configured backend when none is named (the beat schedule).

    Returns {backend: {"run": id, "state": state}}. A backend failure is recorded on its run and
    does not stop the others; nothing is retried here (the next scheduled run is the retry)."""
    names = [backend] if backend else list(settings.SECRET_BACKENDS)
    result = {}
    for name in names:
        run = sync_backend(name, actor=SYSTEM_ACTOR)
        result[name] = {"run": run.pk, "state": run.state}
    return result


@shared_task(name="inventory.refresh_status")
def refresh_status() -> dict:
    """Recompute every secret's status and due date in SQL (beat, every 5 minutes), so secrets
    become due and overdue on time even while their backend is down and no sync runs."""
    return do_refresh_status(actor="celery:inventory.refresh_status")
