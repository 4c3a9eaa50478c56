"""Live topics: the approvals queue (approver groups only) and a grant's session timeline
(security team and CTO). Views render the pages' own partial templates."""

import logging

from django.template.loader import render_to_string

from console import live
from secrets_admin.dashboard.live import changed as dashboard_changed
from secrets_admin.roles import CTO, SECURITY_TEAM

log = logging.getLogger(__name__)

QUEUE = "breakglass.approvals"
SESSIONS = "breakglass.sessions"
APPROVERS = (SECURITY_TEAM, CTO)  # the approver groups; the queue shows nothing to anyone else
WATCHERS = (SECURITY_TEAM, CTO)


def pending():
    from breakglass.models import AccessRequest
    from breakglass.models.request import Status

    return AccessRequest.objects.filter(status=Status.PENDING).order_by("created_at")[:200]


def queue(params) -> str:
    return render_to_string("breakglass/_queue.html", {"pending": pending(), "oob": True})


def timeline(params) -> str:
    from breakglass.models import SessionEvent

    try:
        pk = int(params.get("grant", ""))
    except ValueError:
        raise live.BadRequest("grant must be a number") from None
    events = SessionEvent.objects.filter(grant_id=pk)  # a grant not issued yet has no events
    return render_to_string("breakglass/_timeline.html", {"events": events, "oob": True})


def changed() -> None:
    """The queue changed (a request arrived, was decided or expired). Called after commit."""
    try:
        live.publish(QUEUE)
        dashboard_changed("approvals")
    except Exception:  # the page catches up on reconnect; a decision never fails for this
        log.warning("live publish of %s failed", QUEUE, exc_info=True)


def session_changed(grant_ids) -> None:
    try:
        live.publish(SESSIONS, {"grants": sorted(grant_ids)[:50]})
        dashboard_changed("grants")
    except Exception:
        log.warning("live publish of %s failed", SESSIONS, exc_info=True)


def register() -> None:
    live.register(QUEUE, groups=APPROVERS, views={"queue": queue})
    live.register(SESSIONS, groups=WATCHERS, views={"timeline": timeline})
