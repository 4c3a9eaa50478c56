"""The usage app's home-page panels: access patterns (analytics band) and cost (cost band).
Both read the summary beat keeps (services/summary.py): one row, whatever the estate's size."""

from django.conf import settings

from secrets_admin.dashboard.panels import register, render_once
from secrets_admin.usage.services import cost, summary
from secrets_admin.usage.views import READERS


def _context() -> dict:
    figures, computed_at = summary.current()
    return {
        **figures,
        "computed_at": computed_at,
        "spike_window": settings.USAGE_SPIKE_WINDOW_HOURS,
        "stale_days": settings.USAGE_STALE_DAYS,
    }


def access_panel(request) -> str:
    return render_once("usage/_panel_access.html", _context())  # the summary's: the same for everyone


def cost_panel(request) -> str:
    context = _context()
    context["estimate"] = cost.estimate(counts=context["counts"], stale=context["stale"])
    return render_once("usage/_panel_cost.html", context)


def register_all() -> None:
    register("usage-access", title="Access patterns", groups=READERS, order=210, render=access_panel)
    register("usage-cost", title="Cost by storage tier", groups=READERS, order=310, render=cost_panel)
