"""Raising and resolving alerts: one short transaction records the alert and its deliveries
(audited), and the deliveries are queued to Celery only after it commits.

Dedup: one open alert per condition key. Raising an open key again updates its facts and
counters and sends nothing, unless the severity rises (sent again at once, as an escalation)
or ALERTS_RENOTIFY_HOURS have passed since the last notification (a reminder).
"""

import json
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from console.middleware import current_request_id
from secrets_admin.alerts import actions, events
from secrets_admin.alerts.models import Alert, Channel, Delivery
from secrets_admin.audit.services import actor_name, record

SYSTEM_ACTOR = "alerts"
MAX_FACTS_JSON = 4000
# Keys that only a secret value would fill: refused in facts at any depth.
FORBIDDEN_FACT_KEYS = frozenset(
    {"password", "secret", "secret_value", "value", "token", "client_token", "private_key", "otp_code",
     "secret_id", "routing_key", "webhook_url", "api_key"}
)  # fmt: skip


def alert_key(event: str, target=None, *parts) -> str:
    """The default condition key: the event plus the target ("rotation.failed:inventory.secret:42")."""
    pieces = [event]
    if target is not None:
        pieces += [target._meta.label_lower, str(target.pk)]
    pieces += [str(p) for p in parts]
    return ":".join(pieces)[:255]


def clean_facts(facts: dict | None) -> dict:
    """A JSON-safe dict of metadata (scalars, lists, small dicts). ValueError otherwise."""
    facts = dict(facts or {})
    try:
        text = json.dumps(facts, sort_keys=True, default=_refuse)
    except TypeError as exc:
        raise ValueError(f"alert facts must be JSON-safe metadata: {exc}") from None
    if len(text) > MAX_FACTS_JSON:
        raise ValueError(f"alert facts are too large ({len(text)} characters; {MAX_FACTS_JSON} at most)")
    leaked = _forbidden_key(facts)
    if leaked:
        raise ValueError(f"alert facts must never hold secret values (key {leaked!r})")
    return json.loads(text)


def _refuse(value):
    raise TypeError(f"{type(value).__name__} is not JSON")


def _forbidden_key(value) -> str | None:
    if isinstance(value, dict):
        for key, item in value.items():
            if str(key).lower() in FORBIDDEN_FACT_KEYS:
                return key
            if found := _forbidden_key(item):
                return found
    elif isinstance(value, list):
        for item in value:
            if found := _forbidden_key(item):
                return found
    return None


def _target(target) -> dict:
    if target is None:
        return {"target_type": "", "target_id": "", "target_repr": ""}
    if getattr(target, "_meta", None) is None or target.pk is None:
        raise TypeError("an alert target must be a saved model instance or None")
    return {
        "target_type": target._meta.label_lower,
        "target_id": str(target.pk)[:64],
        "target_repr": str(target).replace("\x00", "")[:200],
    }


def raise_alert(
    event: str,
    *,
    subject: str,
    facts: dict | None = None,
    severity: str | None = None,
    key: str | None = None,
    target=None,
    actor=None,
    request=None,
) -> Alert:
    """Open the alert for condition `key`, or update the one already open; returns it.

    - `event`: a name defined in `events` (its severity is the default `severity`).
    - `key`: the condition; default `alert_key(event, target)`. PagerDuty's dedup_key derives
      from it, and `resolve_alert(key)` closes it.
    - `subject`: one line for people; `facts`: small JSON-safe metadata (never a secret value:
      keys such as "password" or "value" are refused at any depth).
    - `target`: the model instance it is about (copied as type, id and text).

    Runs in its own transaction (a savepoint inside the caller's, so a rolled-back change
    leaves no alert); deliveries are queued after the outermost commit. Never talks to a
    channel. Raises ValueError for an unknown event or severity or bad facts, TypeError for a
    bad target.
    """
    definition = events.get(event)
    severity = events.Severity(severity or definition.severity).value
    key = (key or alert_key(event, target))[:255]
    subject = " ".join(str(subject).split())[:300]
    if not subject:
        raise ValueError("an alert needs a subject")
    facts = clean_facts(facts)
    target_fields = _target(target)
    for attempt in range(3):
        try:
            with transaction.atomic():
                return _raise(definition, key, severity, subject, facts, target_fields, actor, request)
        except IntegrityError:
            # Another writer opened this key between our read and our insert: update theirs.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _raise(definition, key, severity, subject, facts, target_fields, actor, request) -> Alert:
    now = timezone.now()
    alert = Alert.objects.select_for_update().filter(key=key, state=Alert.State.OPEN).first()
    if alert is None:
        alert = Alert.objects.create(
            event=definition.name, key=key, severity=severity, subject=subject, facts=facts,
            opened_at=now, last_raised_at=now, **target_fields,
        )  # fmt: skip
        _notify(alert, severity, now)
        _audit(definition, actions.ALERT_RAISED, alert, actor, request)
        return alert
    alert.last_raised_at, alert.raise_count = now, alert.raise_count + 1
    alert.subject, alert.facts = subject, facts
    action = None
    if events.rank(severity) > events.rank(alert.severity):
        alert.severity, action = severity, actions.ALERT_ESCALATED
    elif _reminder_due(alert, now):
        action = actions.ALERT_RENOTIFIED
    if action:
        _notify(alert, alert.severity, now, escalated=action == actions.ALERT_ESCALATED)
    alert.save()
    if action:
        _audit(definition, action, alert, actor, request)
    return alert


def _reminder_due(alert, now) -> bool:
    hours = settings.ALERTS_RENOTIFY_HOURS
    return bool(hours) and alert.notified_at is not None and now - alert.notified_at >= timedelta(hours=hours)


def _notify(alert, severity, now, *, escalated=False) -> list[int]:
    """Create a trigger delivery for every enabled channel routed for `severity`."""
    channels = Channel.objects.filter(enabled=True, routes__severity=severity).distinct()
    deliveries = [
        Delivery(alert=alert, channel=channel, severity=severity, escalated=escalated, next_attempt_at=now)
        for channel in channels
    ]
    alert.notified_at = now
    Alert.objects.filter(pk=alert.pk).update(notified_at=now)
    return queue([d.pk for d in Delivery.objects.bulk_create(deliveries)])


def queue(ids: list[int]) -> list[int]:
    """Send each delivery from a Celery task once the current transaction commits (ids only)."""
    if ids:
        request_id = current_request_id()

        def send():
            from secrets_admin.alerts.tasks import deliver

            for pk in ids:
                deliver.apply_async(args=[pk], headers={"request_id": request_id})

        transaction.on_commit(send)
    return ids


def _audit(definition, action, alert, actor, request):
    if definition.audited:
        data = {"event": alert.event, "key": alert.key, "severity": alert.severity, "subject": alert.subject}
        record(action, actor=actor or SYSTEM_ACTOR, target=alert, data=data, request=request)


def resolve_alert(key: str, *, actor=None, request=None) -> Alert | None:
    """Close the open alert for `key` and tell the channels that were told it opened.

    Returns the resolved alert, or None when nothing was open (resolving is idempotent, so
    checks can call it on every run). Same transaction rules as `raise_alert`."""
    with transaction.atomic():
        alert = Alert.objects.select_for_update().filter(key=key[:255], state=Alert.State.OPEN).first()
        if alert is None:
            return None
        now = timezone.now()
        alert.state, alert.resolved_at = Alert.State.RESOLVED, now
        alert.resolved_by = actor_name(actor or SYSTEM_ACTOR)
        alert.save(update_fields=["state", "resolved_at", "resolved_by"])
        told = (
            Delivery.objects.filter(alert=alert, action=Delivery.Action.TRIGGER, channel__enabled=True)
            .exclude(status__in=[Delivery.Status.FAILED, Delivery.Status.SKIPPED])
            .values_list("channel_id", flat=True)
            .distinct()
        )
        deliveries = [
            Delivery(alert=alert, channel_id=channel_id, action=Delivery.Action.RESOLVE,
                     severity=alert.severity, next_attempt_at=now)
            for channel_id in sorted(set(told))
        ]  # fmt: skip
        queue([d.pk for d in Delivery.objects.bulk_create(deliveries)])
        _audit(events.lookup(alert.event), actions.ALERT_RESOLVED, alert, actor, request)
    return alert
