"""The dashboard's live topic, `dashboard.tiles`: the headline tiles and the age and results
charts (with their tables, which carry the charts' numbers), re-rendered from the stored figures
(services.snapshot) whenever a rotation ends, an approval or grant changes, or a sync finishes,
and every 30 s by the beat.

The services that make those changes already publish their own topics (rotation.runs,
breakglass.approvals/sessions, inventory.sync); their publish helpers call `changed()` too,
after commit. `changed()` only queues the recompute (services.refresh: a Celery task, coalesced),
which publishes the topic once the figures are stored. What travels through Redis is the topic,
a sequence number and the parts' names; each socket renders its views from the stored row."""

import logging

from console import live

log = logging.getLogger(__name__)
TOPIC = "dashboard.tiles"


def tiles(params) -> str:
    from secrets_admin.dashboard.tiles import tiles_html

    return tiles_html(oob=True)


def age(params) -> str:
    from secrets_admin.dashboard.charts import age_html

    return age_html(oob=True)


def trend(params) -> str:
    from secrets_admin.dashboard.charts import trend_html

    return trend_html(oob=True)


VIEWS = {"tiles": tiles, "age": age, "trend": trend}


def changed(reason: str = "") -> None:
    """The tiles' numbers may have moved: queue the recompute of what `reason` moves (coalesced
    with one already queued); the task publishes the topic. Costs the caller two Redis round
    trips, no SQL. Never raises: a dashboard is not worth a failed rotation."""
    from secrets_admin.dashboard.services import refresh

    try:
        refresh.request(reason)
    except Exception:
        log.warning("could not queue a refresh of %s", TOPIC, exc_info=True)


def page_context() -> dict:
    return {"live_url": live.socket_url(TOPIC, *VIEWS)}


def register() -> None:
    from secrets_admin.dashboard.tiles import VIEWERS

    live.register(TOPIC, groups=VIEWERS, views=VIEWS)
