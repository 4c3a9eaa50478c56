"""The dashboard's chart panels: secret age per kind, the next 30 days of rotations, and the
success/failure trend with the failures standing now. Each chart is drawn by
static/dashboard/charts.js from the table rendered beside it (no inline script, strict CSP).
All three come from the stored rollup (services.snapshot), not from the aggregates on each load.
Age and results are live too: the `dashboard.tiles` topic re-sends them (tables included, which
carry the numbers) and charts.js redraws from the new tables."""

from django.template.loader import render_to_string

from secrets_admin.dashboard.services import snapshot
from secrets_admin.dashboard.tiles import VIEWERS


def age_html(*, oob: bool = False, request=None) -> str:
    row = snapshot.current(request)
    context = {"age": row.figures["age"], "computed_at": row.computed_at, "oob": oob}
    return render_to_string("dashboard/age.html", context, request=request)


def render_age(request) -> str:
    return age_html(request=request)


def render_calendar(request) -> str:
    row = snapshot.current(request)
    context = {"cal": row.figures["calendar"], "computed_at": row.as_of["calendar"]}
    return render_to_string("dashboard/calendar.html", context, request=request)


def trend_html(*, oob: bool = False, request=None) -> str:
    row = snapshot.current(request)
    figures = row.figures
    context = {
        "trend": figures["trend"],
        "failures": figures["failures"],
        "computed_at": row.computed_at,
        "oob": oob,
    }
    return render_to_string("dashboard/trend.html", context, request=request)


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
