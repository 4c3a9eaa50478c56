"""Who hears about a request, and how. Services call `later(kind, id)` from
`transaction.on_commit`: one message to the broker, so a decision's answer never waits on the
alerts' own transactions; the `breakglass.notify` task then runs `requested`, `decided` or
`activated` in a worker.

Alerts go through the alerts app (routing, dedup, Slack, PagerDuty); personal emails (approvers
of a new request, the requester of a decision) go through a Celery task. Every message carries a
deep link to the page where the decision is made; nothing approves by link or by reply.
"""

import logging

from django.conf import settings
from django.db import transaction

log = logging.getLogger(__name__)


def _link(path: str) -> str:
    return settings.CONSOLE_URL.rstrip("/") + path


def _alert(event, *, subject, facts, severity=None, key, target):
    from secrets_admin.alerts.services import raise_alert

    try:
        with transaction.atomic():
            raise_alert(
                event,
                subject=subject,
                facts=facts,
                severity=severity,
                key=key,
                target=target,
                actor="breakglass",
            )
    except Exception:  # a notification must never undo or block the decision it reports
        log.exception("alert %s for %s not raised", event, key)


def later(kind: str, pk: int) -> None:
    """Queue the notification `kind` ("requested", "decided", "activated") about `pk`."""
    from breakglass import tasks

    try:
        tasks.notify.delay(kind, pk)
    except Exception:  # the broker is away: the decision stands, the log says what was not sent
        log.exception("notification %s for %s not queued", kind, pk)


KINDS = ("requested", "decided", "activated")


def _mail(kind: str, request_id: int) -> None:
    from breakglass import tasks

    try:
        tasks.send_mail.delay(kind, request_id)
    except Exception:
        log.exception("mail %s for request %s not queued", kind, request_id)


def requested(request_id: int) -> None:
    from breakglass.models import AccessRequest
    from secrets_admin.alerts import events

    access = AccessRequest.objects.get(pk=request_id)
    _alert(
        events.BREAKGLASS_REQUESTED,
        subject=f"{access.requester_name} asks for {access.get_kind_display().lower()} access "
        f"({len(access.scope)} path{'s' if len(access.scope) != 1 else ''}, {access.duration_words}): "
        "approve or deny in the console",
        facts={
            "request": access.pk,
            "kind": access.kind,
            "requester": access.requester_name,
            "paths": access.paths,
            "groups": access.groups,
            "fingerprint": access.fingerprint,
            "link": _link(access.get_absolute_url()),
        },
        key=f"breakglass.requested:{access.pk}",
        target=access,
    )
    _mail("requested", request_id)


def decided(request_id: int) -> None:
    from secrets_admin.alerts.services import resolve_alert

    try:
        with transaction.atomic():
            resolve_alert(f"breakglass.requested:{request_id}", actor="breakglass")
    except Exception:
        log.exception("alert for request %s not resolved", request_id)
    _mail("decided", request_id)


def activated(grant_id: int) -> None:
    from breakglass.models import Grant
    from breakglass.models.request import Kind
    from secrets_admin.alerts import events

    grant = Grant.objects.select_related("request").get(pk=grant_id)
    access = grant.request
    if access.kind != Kind.BREAK_GLASS:
        return
    _alert(
        events.BREAKGLASS_ACTIVATED,
        subject=f"Break-glass active: {access.requester_name} holds a token for {len(access.scope)} path(s) "
        f"until {grant.expires_at:%Y-%m-%d %H:%M} UTC",
        facts={
            "request": access.pk,
            "grant": grant.pk,
            "requester": access.requester_name,
            "paths": access.paths,
            "expires_at": grant.expires_at.isoformat(),
            "link": _link(grant.get_absolute_url()),
        },
        key=f"breakglass.activated:{grant.pk}",
        target=grant,
    )
