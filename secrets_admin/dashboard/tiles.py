"""The dashboard's own panels on the home page: the headline tiles (live) and the charts.

Who sees them: the security team, the CTO group and managers (read-only: nothing here changes
state). Developers keep the inventory and run pages, which show their part of the same data."""

import logging

from django.template.loader import render_to_string

from secrets_admin.dashboard.services import snapshot
from secrets_admin.roles import CTO, MANAGERS, SECURITY_TEAM

VIEWERS = (SECURITY_TEAM, CTO, MANAGERS)
log = logging.getLogger(__name__)


def shared_numbers(request=None) -> dict:
    """The headline numbers as stored by the rollup (services.snapshot: one query by primary
    key), with the backends' state from the readiness cache and when the figures were computed."""
    from secrets_admin.dashboard.services.headline import backends

    row = snapshot.current(request)
    return {**row.figures["headline"], "backends": backends(), "computed_at": row.computed_at}


def tiles_html(*, oob: bool = False, request=None) -> str:
    from secrets_admin.dashboard.panels import render_once

    return render_once("dashboard/_tiles.html", {"n": shared_numbers(request), "oob": oob})


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
