"""The dashboard's chart panels: secret age per kind, the next 30 days of rotations, and the
success/failure trend with the failures standing now. Each chart is drawn by
static/dashboard/charts.js from the table rendered beside it (no inline script, strict CSP).
All three come from the stored rollup (services.snapshot), not from the aggregates on each load.
Age and results are live too: the `dashboard.tiles` topic re-sends them (tables included, which
carry the numbers) and charts.js redraws from the new tables. Their HTML depends on the stored
figures alone, so each is rendered once per computation (panels.render_once), not per load."""

from secrets_admin.dashboard.panels import render_once
from secrets_admin.dashboard.services import snapshot
from secrets_admin.dashboard.tiles import VIEWERS


def age_html(*, oob: bool = False, request=None) -> str:
    row = snapshot.current(request)
    context = {"age": row.figures["age"], "computed_at": row.computed_at, "oob": oob}
    return render_once("dashboard/age.html", context)


def render_age(request) -> str:
    return age_html(request=request)


def render_calendar(request) -> str:
    row = snapshot.current(request)
    as_of = row.as_of["calendar"]
    context = {"cal": row.figures["calendar"], "computed_at": as_of}
    return render_once("dashboard/calendar.html", context)


def trend_html(*, oob: bool = False, request=None) -> str:
    row = snapshot.current(request)
    figures = row.figures
    context = {
        "trend": figures["trend"],
        "failures": figures["failures"],
        "computed_at": row.computed_at,
        "oob": oob,
    }
    return render_once("dashboard/trend.html", context)


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
