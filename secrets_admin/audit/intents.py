"""Intents: a backend change in three steps, none of which holds a transaction across the network.

    with transaction.atomic():                       # 1. short: code spent, intent, audit
        verify_step_up(actor, otp, purpose=...)
        intent = intents.begin(KIND, key=..., actor=actor, data={...})
    try:
        result = backend.write(...)                  # 2. outside any transaction
    except BackendError as exc:
        intents.fail(intent, str(exc))               #    the database never changed
        raise
    with transaction.atomic():                       # 3. short: the change, its audit, done
        ...change the database, record the domain entry...
        intents.finish(intent, result={...})

A crash between 1 and 3 leaves the intent pending; `reconcile()` (beat, every minute) hands
intents pending for longer than SETTLE_AFTER to the settler registered for their kind, which
looks at the backend and finishes or fails them. Every transition is a conditional UPDATE on
state "pending", so a late finish and the reconciler never both win.
"""

import logging
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from secrets_admin.audit import actions
from secrets_admin.audit.models import Intent
from secrets_admin.audit.services import _actor, _request_id, record

log = logging.getLogger(__name__)

RECONCILER = "celery:intents"  # the actor name of what the reconciler settles
SETTLE_AFTER = timedelta(minutes=2)  # far beyond a backend call's timeout
GIVE_UP_AFTER = 60  # reconciler attempts (an hour) with the backend unreachable

# kind -> dotted path of settle(intent): look at the backend, then finish() or fail() the intent
# (or return without either while the backend cannot be asked). Apps register their kinds.
SETTLERS: dict[str, str] = {}


class ChangeInProgress(ValidationError):
    """Another change of the same thing is still on its way to the backend."""


def register(kind: str, settler: str) -> None:
    SETTLERS[kind] = settler


def begin(kind: str, *, key: str, actor, data: dict, request=None) -> Intent:
    """Record a pending intent and its `intent.started` audit entry, inside the caller's
    transaction. Raises ChangeInProgress if an intent with the same key is pending."""
    if kind not in SETTLERS:
        raise ValueError(f"intent kind {kind!r} has no settler (register it with intents.register)")
    user, name = _actor(actor)
    try:
        with transaction.atomic():
            intent = Intent.objects.create(
                kind=kind,
                key=key[:255],
                actor=user,
                actor_name=name,
                request_id=_request_id(request),
                data=data,
            )
    except IntegrityError:
        raise ChangeInProgress(
            "Another change of this is still being written to its backend. Wait a moment and try again.",
            code="in_progress",
        ) from None
    record(
        actions.INTENT_STARTED, actor=actor, target=intent, data={"kind": kind, "key": key}, request=request
    )
    return intent


def _transition(intent: Intent, state: str, **fields) -> bool:
    changed = Intent.objects.filter(pk=intent.pk, state=Intent.PENDING).update(
        state=state, finished_at=timezone.now(), **fields
    )
    if changed:
        intent.state = state
        for name, value in fields.items():
            setattr(intent, name, value)
    return bool(changed)


def finish(intent: Intent, *, result: dict | None = None) -> bool:
    """Mark `intent` done inside the caller's transaction (with the change it made). Returns
    False if it was no longer pending (the reconciler settled it): roll back then."""
    return _transition(intent, Intent.DONE, result=result or {})


def fail(intent: Intent, error: str, *, settled: bool = False) -> bool:
    """Mark `intent` failed and audit it, in a short transaction of its own (the backend did not
    take the change, so the database keeps its values). Returns False if it was no longer
    pending."""
    with transaction.atomic():
        if not _transition(intent, Intent.FAILED, error=error[:2000]):
            return False
        action = actions.INTENT_SETTLED if settled else actions.INTENT_FAILED
        data = {"kind": intent.kind, "key": intent.key, "outcome": "failed", "error": error[:500]}
        record(action, actor=RECONCILER if settled else intent.actor, target=intent, data=data)
    return True


def reconcile(*, older_than: timedelta = SETTLE_AFTER) -> dict:
    """Settle intents pending for longer than `older_than`. Each settler asks the backend
    outside any transaction. Returns counts for the task log."""
    cutoff = timezone.now() - older_than
    counts = {"settled": 0, "waiting": 0, "gave_up": 0}
    for intent in Intent.objects.filter(state=Intent.PENDING, created_at__lt=cutoff).order_by("created_at")[
        :100
    ]:
        settler = SETTLERS.get(intent.kind)
        try:
            if settler is None:
                raise RuntimeError(f"no settler for intent kind {intent.kind!r}")
            import_string(settler)(intent)
        except Exception as exc:  # one bad intent must not stop the others
            log.warning("intent %s (%s) not settled: %s", intent.pk, intent.kind, exc)
        if intent.state != Intent.PENDING:
            counts["settled"] += 1
            continue
        Intent.objects.filter(pk=intent.pk, state=Intent.PENDING).update(attempts=intent.attempts + 1)
        if intent.attempts + 1 >= GIVE_UP_AFTER:
            fail(
                intent, "gave up: the backend could not be asked for an hour; check it by hand", settled=True
            )
            counts["gave_up"] += 1
        else:
            counts["waiting"] += 1
    return counts
