"""The inventory's live topic, `inventory.sync`: sync runs appearing, moving and finishing.

Its views render the same templates as the run pages, so a live cell and a reloaded page say the
same words. Who may follow it: everyone who may read the sync-run pages (`views.VIEWERS`).
"""

from datetime import datetime

from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from console import live
from secrets_admin.inventory.models import SyncRun

TOPIC = "inventory.sync"
RUNS_SHOWN = 50  # the run list's table
BANNER_RUNS = 5


def banner_runs(since: datetime):
    """Runs running now, and runs that finished after `since` (the page's render time): a page
    keeps showing how the syncs it watched ended, also after its socket reconnected."""
    return SyncRun.objects.defer("errors").filter(Q(state=SyncRun.State.RUNNING) | Q(finished_at__gte=since))[
        :BANNER_RUNS
    ]


def recent_runs():
    return SyncRun.objects.defer("errors")[:RUNS_SHOWN]


def _since(params) -> datetime:
    try:
        since = datetime.fromisoformat(params.get("since", ""))
    except ValueError:
        raise live.BadRequest("since must be an ISO 8601 time") from None
    if timezone.is_naive(since):
        raise live.BadRequest("since needs a time zone")
    return since


def banner(params) -> str:
    runs = banner_runs(_since(params))
    return render_to_string("inventory/_sync_banner.html", {"live_runs": runs, "oob": True})


def runs(params) -> str:
    return render_to_string("inventory/_run_rows.html", {"runs": recent_runs(), "oob": True})


def run(params) -> str:
    try:
        pk = int(params.get("run", ""))
    except ValueError:
        raise live.BadRequest("run must be a number") from None
    found = SyncRun.objects.filter(pk=pk).first()
    if found is None:
        raise live.BadRequest("no such run")
    return render_to_string("inventory/_run_summary.html", {"run": found, "oob": True})


def page_context(*views, **params) -> dict:
    """What a page that follows the topic needs: its socket address, read before the page's
    own queries run, and the render time its banner counts from."""
    now = timezone.now()
    url = live.socket_url(TOPIC, *views, since=now.isoformat(), **params)
    return {"live_url": url, "live_runs": banner_runs(now)}


def register() -> None:
    from secrets_admin.inventory.views import VIEWERS

    live.register(TOPIC, groups=VIEWERS, views={"banner": banner, "runs": runs, "run": run})
