"""The dashboard's chart panels: secret age per kind, the next 30 days of rotations, and the
success/failure trend with the failures standing now. Each chart is drawn by
static/dashboard/charts.js from the table rendered beside it (no inline script, strict CSP).
All three come from the stored rollup (services.snapshot), not from the aggregates on each load.
Age and results are live too: the `dashboard.tiles` topic re-sends them (tables included, which
carry the numbers) and charts.js redraws from the new tables."""

from collections import OrderedDict

from django.template.loader import render_to_string

from secrets_admin.dashboard.services import snapshot
from secrets_admin.dashboard.tiles import VIEWERS

# The charts' HTML depends on the stored figures alone (nothing per person or per request), so
# each computation is rendered once per process, not once per page load and socket: the trend's
# 90-row table costs tens of ms to render. Keyed by the set's computed_at, which every recompute
# moves, so a new computation is never served the old HTML; the 16 last used are kept.
RENDERED: OrderedDict[tuple, str] = OrderedDict()
RENDERED_KEPT = 16


def _rendered(template: str, as_of, oob: bool, context: dict) -> str:
    key = (template, as_of.isoformat(), oob)
    html = RENDERED.get(key)
    if html is None:
        html = RENDERED[key] = render_to_string(template, context)
        while len(RENDERED) > RENDERED_KEPT:
            RENDERED.popitem(last=False)
    else:
        RENDERED.move_to_end(key)
    return html


def age_html(*, oob: bool = False, request=None) -> str:
    row = snapshot.current(request)
    context = {"age": row.figures["age"], "computed_at": row.computed_at, "oob": oob}
    return _rendered("dashboard/age.html", row.computed_at, oob, context)


def render_age(request) -> str:
    return age_html(request=request)


def render_calendar(request) -> str:
    row = snapshot.current(request)
    as_of = row.as_of["calendar"]
    context = {"cal": row.figures["calendar"], "computed_at": as_of}
    return _rendered("dashboard/calendar.html", as_of, False, context)


def trend_html(*, oob: bool = False, request=None) -> str:
    row = snapshot.current(request)
    figures = row.figures
    context = {
        "trend": figures["trend"],
        "failures": figures["failures"],
        "computed_at": row.computed_at,
        "oob": oob,
    }
    return _rendered("dashboard/trend.html", row.computed_at, oob, context)


def render_trend(request) -> str:
    return trend_html(request=request)


def register() -> None:
    from secrets_admin.dashboard import panels

    panels.register("age", title="Secret age by kind", groups=VIEWERS, order=110, render=render_age)
    panels.register(
        "calendar", title="Rotations in the next 30 days", groups=VIEWERS, order=120, render=render_calendar
    )
    panels.register(
        "trend", title="Rotation results, last 90 days", groups=VIEWERS, order=130, render=render_trend
    )
