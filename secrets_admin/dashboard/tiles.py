"""The dashboard's own panels on the home page: the headline tiles (live) and the charts.

Who sees them: the security team, the CTO group and managers (read-only: nothing here changes
state). Developers keep the inventory and run pages, which show their part of the same data."""

from django.template.loader import render_to_string

from secrets_admin.dashboard.services.headline import headline_numbers
from secrets_admin.roles import CTO, MANAGERS, SECURITY_TEAM

VIEWERS = (SECURITY_TEAM, CTO, MANAGERS)


def tiles_html(*, oob: bool = False, request=None) -> str:
    return render_to_string("dashboard/_tiles.html", {"n": headline_numbers(), "oob": oob}, request=request)


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
