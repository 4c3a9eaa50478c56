"""The usage app's home-page panels: access patterns (analytics band) and cost (cost band)."""

from django.template.loader import render_to_string

from secrets_admin.dashboard.panels import register
from secrets_admin.usage.services import anomalies, cost
from secrets_admin.usage.views import READERS


def access_panel(request) -> str:
    return render_to_string(
        "usage/_panel_access.html",
        {
            "spikes": anomalies.spikes(limit=5),
            "stale_count": anomalies.stale_count(),
            **anomalies.settings_context(),
        },
        request=request,
    )


def cost_panel(request) -> str:
    return render_to_string(
        "usage/_panel_cost.html",
        {"estimate": cost.estimate(), **anomalies.settings_context()},
        request=request,
    )


def register_all() -> None:
    register("usage-access", title="Access patterns", groups=READERS, order=210, render=access_panel)
    register("usage-cost", title="Cost by storage tier", groups=READERS, order=310, render=cost_panel)
