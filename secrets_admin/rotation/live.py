"""The rotation's live topic, `rotation.runs`: runs appearing, moving through their steps, ending.

Views render the same templates as the run pages. Who may follow it: everyone who may view the
inventory (the run pages show metadata only). Payloads carry a run id and its state, never a value.
"""

import logging
import time

from django.template.loader import render_to_string

from console import live
from secrets_admin.dashboard.live import changed as dashboard_changed
from secrets_admin.rotation.models import RotationRun

log = logging.getLogger(__name__)
TOPIC = "rotation.runs"
RUNS_SHOWN = 50


def recent_runs(secret_id: int | None = None):
    runs = RotationRun.objects.select_related("secret")
    if secret_id is not None:
        runs = runs.filter(secret_id=secret_id)
    return runs[:RUNS_SHOWN]


def _int(params, name: str) -> int | None:
    raw = params.get(name, "")
    if raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise live.BadRequest(f"{name} must be a number") from None


def runs(params) -> str:
    secret_id = _int(params, "secret")
    context = {"runs": recent_runs(secret_id), "oob": True, "secret_id": secret_id}
    return render_to_string("rotation/_run_rows.html", context)


def run(params) -> str:
    pk = _int(params, "run")
    found = RotationRun.objects.select_related("secret").filter(pk=pk).first() if pk else None
    if found is None:  # deleted with its secret: say so rather than close the socket
        return '<div id="rotation-run-detail" hx-swap-oob="innerHTML"><p>This run no longer exists.</p></div>'
    return render_to_string(
        "rotation/_run_detail.html", {"run": found, "steps": found.steps.all(), "oob": True}
    )


_last_publish = [0.0]  # this process's last intermediate publish (monotonic seconds)
COALESCE_SECONDS = 0.5


def publish_run(run_id: int, *, final: bool = True) -> None:
    """Tell run pages that run `run_id` moved. Intermediate steps (final=False) publish at most
    every COALESCE_SECONDS per process: each publish makes every page re-render its views, and a
    later publish (at the latest the run's end, always sent) carries the newer state anyway."""
    now = time.monotonic()
    if not final and now - _last_publish[0] < COALESCE_SECONDS:
        return
    _last_publish[0] = now
    try:
        run = RotationRun.objects.filter(pk=run_id).values("state", "step").first() or {}
        live.publish(TOPIC, {"run": run_id, "state": run.get("state"), "step": run.get("step")})
        if final:  # a run that ended (or failed a step) moves the dashboard's tiles
            dashboard_changed("rotation")
    except Exception:  # live progress is a nicety; a broken channel layer must not fail a rotation
        log.warning("could not publish rotation progress", exc_info=True)


def page_context(*views, **params) -> dict:
    return {"live_url": live.socket_url(TOPIC, *views, **params)}


def register() -> None:
    from secrets_admin.inventory.views import VIEWERS

    live.register(TOPIC, groups=VIEWERS, views={"runs": runs, "run": run})
