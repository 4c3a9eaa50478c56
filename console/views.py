from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from console.health import cached_readiness, may_see_details, readiness
from secrets_admin.dashboard.panels import panels_for


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
    return render(request, "console/_backends.html", _backends_context(request, readiness()))
