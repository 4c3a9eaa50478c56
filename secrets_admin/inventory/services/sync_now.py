"""'Sync now' from the console: audit the request, then queue the task once the request commits."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from console.middleware import current_request_id
from secrets_admin.audit.services import record
from secrets_admin.inventory import actions


def do_request_sync(backend: str, *, actor, request=None) -> None:
    """Queue `inventory.sync` for one configured backend (task args: the name only).

    Raises ValidationError for a backend that is not configured."""
    if backend not in settings.SECRET_BACKENDS:
        raise ValidationError(f"No backend named {backend!r} is configured.")
    from secrets_admin.inventory.tasks import sync

    request_id = current_request_id()
    with transaction.atomic():
        record(actions.SYNC_REQUESTED, actor=actor, data={"backend": backend}, request=request)
        transaction.on_commit(lambda: sync.apply_async(args=[backend], headers={"request_id": request_id}))
