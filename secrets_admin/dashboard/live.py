"""The dashboard's live topic, `dashboard.tiles`: the headline tiles, re-rendered from the
stored figures (services.snapshot) whenever a rotation ends, an approval or grant changes, or a
sync finishes (each such event recomputes them first), and every 30 s by the beat.

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
    """The tiles' numbers may have moved: recompute the stored figures (coalesced with any
    recompute under way), which then publishes the topic. Never raises: a dashboard is not worth
    a failed rotation."""
    from secrets_admin.dashboard.services import snapshot

    try:
        snapshot.refresh(reason)
    except Exception:
        log.warning("could not refresh %s", TOPIC, exc_info=True)


def page_context() -> dict:
    return {"live_url": live.socket_url(TOPIC, "tiles")}


def register() -> None:
    from secrets_admin.dashboard.tiles import VIEWERS

    live.register(TOPIC, groups=VIEWERS, views={"tiles": tiles})
