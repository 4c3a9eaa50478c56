"""Sending one delivery, outside any transaction.

    claim (short transaction: waiting -> sending, attempts + 1)
    transport.send(...)            no transaction, no lock
    finish (short transaction: sent | retrying with back-off | failed, audited)

A permanent error fails the delivery at once and disables its channel (audited, and alerted
through the other channels); a temporary one is retried after ALERTS_RETRY_SECONDS × 2^(n-1)
until ALERTS_MAX_ATTEMPTS. The task re-queues itself for the retry; `reconcile()` (beat) re-queues
anything whose message was lost or whose worker died mid-send — broker redelivery alone is not
trusted.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from secrets_admin.alerts import actions, events
from secrets_admin.alerts.models import Channel, Delivery
from secrets_admin.alerts.services.alerting import SYSTEM_ACTOR, queue, raise_alert
from secrets_admin.alerts.transports.base import DeliveryError, Notification
from secrets_admin.audit.services import record

log = logging.getLogger(__name__)
Status, Action = Delivery.Status, Delivery.Action
SENDING_LEASE = timedelta(minutes=5)  # a send that takes longer than this was lost with its worker
LOST_AFTER = timedelta(minutes=1)  # a waiting delivery this far past due lost its task message
RESOLVE_WAIT = 5.0  # seconds a resolve waits for its channel's trigger to finish


@dataclass(frozen=True)
class Outcome:
    status: str
    retry_in: float | None = None  # try this delivery again in so many seconds
    error: str = ""


def backoff(attempts: int) -> float:
    """Seconds to wait after the `attempts`-th failed try: 30, 60, 120, 240... by default."""
    return settings.ALERTS_RETRY_SECONDS * 2 ** max(0, attempts - 1)


def console_url(path: str) -> str:
    return settings.CONSOLE_URL.rstrip("/") + path


def notification_for(delivery: Delivery) -> Notification:
    """Everything a transport may say, taken from the alert's metadata."""
    alert = delivery.alert
    return Notification(
        action=delivery.action,
        event=alert.event,
        title=events.lookup(alert.event).title,
        severity=delivery.severity,
        subject=alert.subject,
        key=alert.key,
        target=alert.target_repr,
        url=console_url(alert.get_absolute_url()),
        opened_at=alert.opened_at,
        resolved_at=alert.resolved_at,
        facts=dict(alert.facts),
        test=alert.event == events.TEST,
        escalated=delivery.escalated,
    )


def deliver(delivery_id: int) -> Outcome:
    """Try to send one delivery once. Safe to call twice for one id (only one caller sends)."""
    claimed = _claim(delivery_id)
    if isinstance(claimed, Outcome):
        return claimed
    delivery = claimed
    try:
        delivery.channel.transport().send(notification_for(delivery))
    except DeliveryError as exc:
        return _failed(delivery, exc)
    except Exception as exc:  # a fault in our code must not leave the delivery "sending"
        log.error("alert delivery %s: unexpected %s", delivery.pk, type(exc).__name__)
        return _failed(delivery, DeliveryError(f"unexpected error ({type(exc).__name__})", permanent=False))
    return _sent(delivery)


def _claim(delivery_id) -> Delivery | Outcome:
    now = timezone.now()
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(of=("self",))
            .select_related("alert", "channel")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None:
            return Outcome("gone")
        if delivery.status not in Delivery.WAITING:
            return Outcome(delivery.status)  # a duplicate message: someone else sent it
        if delivery.next_attempt_at > now + timedelta(seconds=1):
            return Outcome(delivery.status)  # early duplicate: the scheduled message will come
        if delivery.action == Action.RESOLVE:
            wait = _trigger_unfinished(delivery)
            if wait:
                delivery.next_attempt_at = now + timedelta(seconds=wait)
                delivery.save(update_fields=["next_attempt_at"])
                return Outcome(delivery.status, retry_in=wait)
        reason = _skip_reason(delivery)
        if delivery.attempts >= settings.ALERTS_MAX_ATTEMPTS:
            reason = f"gave up after {delivery.attempts} attempts"
        if reason:
            delivery.status, delivery.finished_at = Status.SKIPPED, now
            delivery.last_error = reason
            delivery.save(update_fields=["status", "finished_at", "last_error"])
            return Outcome(Status.SKIPPED, error=reason)
        delivery.status, delivery.started_at = Status.SENDING, now
        delivery.attempts += 1
        delivery.save(update_fields=["status", "started_at", "attempts"])
    return delivery


def _trigger_unfinished(delivery) -> float:
    """Seconds until the channel's trigger for this alert finishes (0: it has): PagerDuty must
    never see `resolve` before `trigger`, or the incident would stay open."""
    trigger = (
        Delivery.objects.filter(
            alert_id=delivery.alert_id,
            channel_id=delivery.channel_id,
            action=Action.TRIGGER,
            status__in=Delivery.UNFINISHED,
        )
        .order_by("-next_attempt_at")
        .first()
    )
    if trigger is None:
        return 0
    remaining = (trigger.next_attempt_at - timezone.now()).total_seconds()
    return max(RESOLVE_WAIT, remaining + 1)


def _skip_reason(delivery) -> str:
    test = delivery.alert.event == events.TEST
    if not delivery.channel.enabled and not test:
        return "the channel is disabled"
    if delivery.action == Action.TRIGGER and delivery.alert.state == "resolved" and not test:
        return "the alert was resolved before this was sent"
    if delivery.action == Action.RESOLVE:
        told = Delivery.objects.filter(
            alert_id=delivery.alert_id,
            channel_id=delivery.channel_id,
            action=Action.TRIGGER,
            status=Status.SENT,
        )
        if not told.exists():
            return "this channel was never told the alert opened"
    return ""


def _sent(delivery) -> Outcome:
    now = timezone.now()
    with transaction.atomic():
        done = Delivery.objects.filter(pk=delivery.pk, status=Status.SENDING).update(
            status=Status.SENT, finished_at=now, last_error=""
        )
        Channel.objects.filter(pk=delivery.channel_id).update(last_sent_at=now)
        if done:
            _audit(actions.DELIVERY_SENT, delivery, {})
    return Outcome(Status.SENT)


def _failed(delivery, error: DeliveryError) -> Outcome:
    now = timezone.now()
    message = str(error)[:500]
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().select_related("alert", "channel").get(pk=delivery.pk)
        if delivery.status != Status.SENDING:
            return Outcome(delivery.status)  # the reconciler took it back meanwhile
        delivery.last_error = message
        if not error.permanent and delivery.attempts < settings.ALERTS_MAX_ATTEMPTS:
            wait = backoff(delivery.attempts)
            delivery.status, delivery.next_attempt_at = Status.RETRYING, now + timedelta(seconds=wait)
            delivery.save(update_fields=["status", "next_attempt_at", "last_error"])
            return Outcome(Status.RETRYING, retry_in=wait, error=message)
        delivery.status, delivery.finished_at = Status.FAILED, now
        delivery.save(update_fields=["status", "finished_at", "last_error"])
        _audit(actions.DELIVERY_FAILED, delivery, {"error": message, "permanent": error.permanent})
        if error.permanent:
            disable_channel(delivery.channel, reason=message, delivery=delivery)
    return Outcome(Status.FAILED, error=message)


def disable_channel(channel, *, reason: str, delivery=None) -> bool:
    """Turn a channel off after a permanent error (once), skip what still waits for it, audit
    it, and tell the other channels. Call inside a transaction. True if it was enabled."""
    now = timezone.now()
    if not Channel.objects.filter(pk=channel.pk, enabled=True).update(
        enabled=False, disabled_reason=reason, disabled_at=now
    ):
        return False
    Delivery.objects.filter(channel=channel, status__in=Delivery.WAITING).update(
        status=Status.SKIPPED, finished_at=now, last_error="the channel was disabled"
    )
    channel.refresh_from_db()
    data = {"reason": reason, "delivery": delivery.pk if delivery else None}
    record(actions.CHANNEL_DISABLED, actor=SYSTEM_ACTOR, target=channel, data=data)
    raise_alert(
        events.CHANNEL_DISABLED,
        subject=f"Alert channel “{channel.name}” was disabled: {reason}"[:300],
        facts={"channel": channel.name, "kind": channel.kind, "error": reason[:300]},
        target=channel,
    )
    return True


def _audit(action, delivery, extra):
    if events.lookup(delivery.alert.event).audited:
        data = {
            "delivery": delivery.pk,
            "channel": delivery.channel.name,
            "action": delivery.action,
            "attempts": delivery.attempts,
            **extra,
        }
        record(action, actor=SYSTEM_ACTOR, target=delivery.alert, data=data)


def reconcile() -> list[int]:
    """Re-queue deliveries whose task message was lost (waiting, long past due) or whose worker
    died mid-send (sending for longer than the lease). Returns the ids queued."""
    now = timezone.now()
    with transaction.atomic():
        stuck = Delivery.objects.filter(status=Status.SENDING, started_at__lt=now - SENDING_LEASE)
        stuck_ids = list(stuck.values_list("pk", flat=True)[:500])
        Delivery.objects.filter(pk__in=stuck_ids).update(
            status=Status.RETRYING, next_attempt_at=now, last_error="the worker stopped while sending"
        )
        lost = Delivery.objects.filter(status__in=Delivery.WAITING, next_attempt_at__lt=now - LOST_AFTER)
        lost_ids = list(lost.order_by("next_attempt_at").values_list("pk", flat=True)[:500])
        # Due now, so the early-duplicate check in _claim lets the new message through.
        Delivery.objects.filter(pk__in=lost_ids).update(next_attempt_at=now)
        return queue(stuck_ids + lost_ids)
