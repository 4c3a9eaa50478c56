"""The dashboard's own panels on the home page: the headline tiles (live) and the charts.

Who sees them: the security team, the CTO group and managers (read-only: nothing here changes
state). Developers keep the inventory and run pages, which show their part of the same data."""

import logging

from django.core.cache import cache
from django.template.loader import render_to_string

from secrets_admin.dashboard.services.headline import headline_numbers
from secrets_admin.roles import CTO, MANAGERS, SECURITY_TEAM

VIEWERS = (SECURITY_TEAM, CTO, MANAGERS)
log = logging.getLogger(__name__)


CACHE_SECONDS = 30  # the longest a figure that no event announces (MFA, audit) stays stale


def shared_numbers() -> dict:
    """headline_numbers(), computed once per state of the `dashboard.tiles` topic: every socket
    re-renders the tiles when the topic moves, and every page load renders them, so they share
    one computation (cached under the topic's sequence number, which each event moves). Figures
    that no event announces (a new authenticator, a verification) are at most CACHE_SECONDS old."""
    from console import live as console_live
    from secrets_admin.dashboard.live import TOPIC

    seq = console_live.current_seq(TOPIC)
    if seq == console_live.UNKNOWN_SEQ or CACHE_SECONDS <= 0:
        return headline_numbers()
    key = f"dashboard:headline:{seq}"
    try:
        found = cache.get(key)
    except Exception:  # Redis away: compute (the page must render)
        found = None
    if found is None:
        found = headline_numbers()
        try:
            cache.set(key, found, timeout=CACHE_SECONDS)
        except Exception:
            log.warning("could not cache the dashboard's headline numbers", exc_info=True)
    return found


def tiles_html(*, oob: bool = False, request=None) -> str:
    return render_to_string("dashboard/_tiles.html", {"n": shared_numbers(), "oob": oob}, request=request)


def render_tiles(request) -> str:
    from secrets_admin.dashboard import live

    # The socket address first: a change made while the tiles render is sent when it opens.
    following = live.page_context()
    return render_to_string(
        "dashboard/tiles_panel.html", {**following, "tiles": tiles_html(request=request)}, request=request
    )


def register() -> None:
    from secrets_admin.dashboard import panels

    panels.register("tiles", title="At a glance", groups=VIEWERS, order=10, render=render_tiles)
