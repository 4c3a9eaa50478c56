"""The compliance panel of the overview: each framework's score, linked to its page."""

from secrets_admin.compliance.measures import STATUS_WORDS
from secrets_admin.dashboard.panels import register, render_once
from secrets_admin.roles import CTO, MANAGERS, SECURITY_TEAM


def render_panel(request):
    from secrets_admin.dashboard.services import snapshot

    # the scores as stored with the dashboard's figures (its rollup: one row for the home page)
    row = snapshot.current(request)
    context = {
        "results": row.figures["compliance"],
        "words": STATUS_WORDS,
        "computed_at": row.as_of["compliance"],
    }
    return render_once("compliance/_panel.html", context)  # stored figures: the same for everyone


register(
    "compliance",
    title="Compliance by framework",
    groups=[SECURITY_TEAM, CTO, MANAGERS],
    order=300,
    render=render_panel,
)
