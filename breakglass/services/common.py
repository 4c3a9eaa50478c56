"""What the request, approval and grant services share: refusals that are audited."""

from contextlib import contextmanager

from django.core.exceptions import ValidationError
from django.db import transaction

from breakglass import actions
from breakglass.models import AccessRequest
from secrets_admin.audit.services import record


class Refused(ValidationError):
    """A request, approval or grant action refused; nothing changed. `why` is a stable code."""

    def __init__(self, message: str, *, why: str):
        super().__init__(message, code=why)
        self.why = why


def record_refusal(*, actor, why: str, target=None, data: dict | None = None, request=None) -> None:
    """Audit a refusal in its own transaction (the refused change rolled back with its own)."""
    with transaction.atomic():
        record(
            actions.REFUSED, actor=actor, target=target, data={"why": why, **(data or {})}, request=request
        )


@contextmanager
def audited_refusals(*, actor, request_id=None, doing: str, request=None):
    """Run a service body; a ValidationError it raises is audited as a refusal, then re-raised."""
    try:
        yield
    except ValidationError as exc:
        why = (
            getattr(exc, "why", None)
            or getattr(exc, "reason", None)
            or getattr(exc, "code", None)
            or "invalid"
        )
        target = AccessRequest.objects.filter(pk=request_id).first() if request_id else None
        message = "; ".join(exc.messages)[:300]
        record_refusal(
            actor=actor,
            why=str(why),
            target=target,
            data={"doing": doing, "message": message},
            request=request,
        )
        raise
