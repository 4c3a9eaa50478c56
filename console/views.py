from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from console.health import cached_readiness, may_see_details, readiness
from secrets_admin.accounts.access import user_in
from secrets_admin.dashboard.panels import panels_for
from secrets_admin.dashboard.services.headline import backend_states
from secrets_admin.dashboard.tiles import VIEWERS as DASHBOARD_VIEWERS


def _backends_context(request, checks) -> dict:
    return {
        "checks": checks,
        "details": may_see_details(request),
        "cache_seconds": settings.READINESS_CACHE_SECONDS,
    }


@login_required
@require_GET
def home(request):
    """Landing page and dashboard: who you are, the backends' state as last checked, and the
    panels the person's groups may see. It never calls a backend itself: the state panel loads
    from `backend_status` after the page."""
    context = _backends_context(request, cached_readiness())
    context["groups"] = sorted(request.user.groups.values_list("name", flat=True))
    context["panels"] = [(panel, panel.render(request)) for panel in panels_for(request.user)]
    return render(request, "console/home.html", context)


@login_required
@require_GET
@never_cache
def backend_status(request):
    """The overview's backend panel (an htmx fragment): cached results, or one bounded probe round."""
    context = _backends_context(request, readiness())
    if user_in(request.user, *DASHBOARD_VIEWERS):  # their page has the backends tile: update it too
        context["dashboard_backends"] = backend_states(context["checks"])
    return render(request, "console/_backends.html", context)
