"""Channel and routing edits (security team, one-time code, audited) and test alerts.

A channel's secret is validated, encrypted and never returned: edits leave it alone unless a
new one is typed, and audit entries only say that it changed.
"""

import uuid

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from secrets_admin.accounts.stepup import verify_step_up
from secrets_admin.alerts import actions, events
from secrets_admin.alerts.events import Severity
from secrets_admin.alerts.models import Alert, Channel, Delivery, Route
from secrets_admin.alerts.services.alerting import alert_key, queue, resolve_alert
from secrets_admin.alerts.transports import TRANSPORTS, transport_class
from secrets_admin.audit.services import actor_name, record


def _clean(kind: str, name: str, config: dict, secret: str | None, *, secret_required: bool):
    if kind not in TRANSPORTS:
        raise ValidationError(f"Choose one of: {', '.join(TRANSPORTS)}.")
    transport = transport_class(kind)
    name = " ".join(str(name or "").split())
    if not name or len(name) > 100:
        raise ValidationError("Give the channel a name of at most 100 characters.")
    config = transport.clean_config(config or {})
    if transport.secret_label and (secret or secret_required):
        if not secret:
            raise ValidationError(f"Enter the {transport.secret_label.lower()}.")
        secret = transport.clean_secret(secret)
    else:
        secret = None
    return name, config, secret


def do_create_channel(
    *, actor, otp: str, kind: str, name: str, config=None, secret="", request=None
) -> Channel:
    """Add a channel, routed for its kind's default severities. Raises ValidationError (what to
    fix) or StepUpFailed; changes nothing then."""
    name, config, secret = _clean(kind, name, config, secret, secret_required=True)
    try:
        with transaction.atomic():
            verify_step_up(actor, otp, purpose="alerts.channel.create", request=request)
            channel = Channel(name=name, kind=kind, config=config)
            channel.set_secret(secret or "")
            channel.save()
            severities = list(channel.transport_class.default_severities)
            Route.objects.bulk_create(Route(channel=channel, severity=s) for s in severities)
            data = {"name": name, "kind": kind, "config": config, "severities": severities}
            record(actions.CHANNEL_CREATED, actor=actor, target=channel, data=data, request=request)
    except IntegrityError:
        raise ValidationError(f"A channel named {name!r} already exists.") from None
    return channel


def do_update_channel(
    channel_id: int,
    *,
    actor,
    otp: str,
    name: str,
    config=None,
    secret: str | None = None,
    enabled: bool,
    request=None,
) -> Channel:
    """Change a channel's name, settings, secret (only when a new one is given) and whether it
    is enabled. Re-enabling clears the disabled banner and resolves its alert."""
    try:
        with transaction.atomic():
            verify_step_up(actor, otp, purpose=f"alerts.channel.update:{channel_id}", request=request)
            channel = Channel.objects.select_for_update().get(pk=channel_id)
            name, config, secret = _clean(channel.kind, name, config, secret, secret_required=False)
            changes = {
                field: [getattr(channel, field), value]
                for field, value in (("name", name), ("config", config), ("enabled", enabled))
                if getattr(channel, field) != value
            }
            channel.name, channel.config = name, config
            if secret:
                channel.set_secret(secret)
                changes["secret"] = "changed"  # never the value, nor its hint
            if "enabled" in changes:
                channel.enabled = enabled
                if enabled:
                    channel.disabled_reason, channel.disabled_at = "", None
            if not changes:
                return channel
            channel.save()
            record(
                actions.CHANNEL_UPDATED,
                actor=actor,
                target=channel,
                data={"changes": changes},
                request=request,
            )
            if channel.enabled and "enabled" in changes:
                resolve_alert(alert_key(events.CHANNEL_DISABLED, channel), actor=actor, request=request)
    except IntegrityError:
        raise ValidationError(f"A channel named {name!r} already exists.") from None
    return channel


def do_update_routing(*, actor, otp: str, routes, request=None) -> dict:
    """Make the routing table exactly `routes`, a set of (channel id, severity) pairs.
    Returns {"added": [...], "removed": [...]} as (channel name, severity) pairs."""
    wanted = {(int(channel_id), Severity(severity).value) for channel_id, severity in routes}
    with transaction.atomic():
        verify_step_up(actor, otp, purpose="alerts.routing.update", request=request)
        names = dict(Channel.objects.select_for_update().values_list("pk", "name"))
        unknown = {pk for pk, _ in wanted} - set(names)
        if unknown:
            raise ValidationError("The routing names a channel that no longer exists; reload the page.")
        current = set(Route.objects.values_list("channel_id", "severity"))
        added, removed = sorted(wanted - current), sorted(current - wanted)
        for channel_id, severity in removed:
            Route.objects.filter(channel_id=channel_id, severity=severity).delete()
        Route.objects.bulk_create(Route(channel_id=c, severity=s) for c, s in added)
        diff = {
            "added": [[names[c], s] for c, s in added],
            "removed": [[names[c], s] for c, s in removed],
        }
        if added or removed:
            record(actions.ROUTING_UPDATED, actor=actor, data=diff, request=request)
    return diff


def do_send_test(channel_id: int, *, actor, request=None) -> Alert:
    """Send a test alert to one channel (also a disabled one: that is how to check a fix).
    The alert is recorded as already resolved, so it never shows as an open condition."""
    now = timezone.now()
    who = actor_name(actor)
    with transaction.atomic():
        channel = Channel.objects.get(pk=channel_id)
        alert = Alert.objects.create(
            event=events.TEST,
            key=alert_key(events.TEST, channel, uuid.uuid4().hex[:12]),
            severity=Severity.INFO,
            subject=f"Test alert for “{channel.name}”, sent by {who}",
            facts={"channel": channel.name, "requested_by": who},
            target_type=channel._meta.label_lower, target_id=str(channel.pk), target_repr=str(channel)[:200],
            state=Alert.State.RESOLVED, opened_at=now, last_raised_at=now, notified_at=now,
            resolved_at=now, resolved_by=who,
        )  # fmt: skip
        delivery = Delivery.objects.create(
            alert=alert, channel=channel, severity=Severity.INFO, next_attempt_at=now
        )
        record(actions.TEST_REQUESTED, actor=actor, target=channel, data={"alert": alert.pk}, request=request)
        queue([delivery.pk])
    return alert
