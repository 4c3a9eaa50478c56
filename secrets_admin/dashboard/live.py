"""The dashboard's live topic, `dashboard.tiles`: the headline tiles, re-rendered from the
database whenever a rotation ends, an approval or grant changes, or a sync finishes.

The services that make those changes already publish their own topics (rotation.runs,
breakglass.approvals/sessions, inventory.sync); their publish helpers call `changed()` too,
after commit. What travels is the topic and a sequence number; each socket renders the tiles."""

import logging

from console import live

log = logging.getLogger(__name__)
TOPIC = "dashboard.tiles"


def tiles(params) -> str:
    from secrets_admin.dashboard.tiles import tiles_html

    return tiles_html(oob=True)


def changed(reason: str = "") -> None:
    """The tiles' numbers may have moved. Never raises: a dashboard is not worth a failed rotation."""
    try:
        live.publish(TOPIC, {"reason": reason[:40]})
    except Exception:
        log.warning("could not publish %s", TOPIC, exc_info=True)


def page_context() -> dict:
    return {"live_url": live.socket_url(TOPIC, "tiles")}


def register() -> None:
    from secrets_admin.dashboard.tiles import VIEWERS

    live.register(TOPIC, groups=VIEWERS, views={"tiles": tiles})
