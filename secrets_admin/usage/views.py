"""Access patterns and cost pages: read-only, for the security team, the CTO and managers.
Thin: parse the filters (a bad one answers 400 with what to fix), call the services, render.
The access page reads the figures beat stores with the summary (services/page.py); only a
filtered view's access tables are computed on load."""

from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from secrets_admin.accounts.access import require_groups
from secrets_admin.roles import CTO, MANAGERS, SECURITY_TEAM
from secrets_admin.usage.services import anomalies, cost, page, patterns, summary
from secrets_admin.usage.services.filters import BadFilter

READERS = (SECURITY_TEAM, CTO, MANAGERS)


@require_groups(*READERS)
@require_GET
def access(request):
    context = {"operations": patterns.OPERATIONS, "params": request.GET}
    try:
        filters = patterns.parse(request.GET)
    except BadFilter as exc:
        return render(request, "usage/access.html", {**context, "error": str(exc)}, status=400)
    figures, computed_at = summary.current()
    stored = page.read(figures.get("page"), filters, default=page.is_default(request.GET))
    if stored is None:  # a summary from before the page kept its figures there: recompute it
        computed_at = timezone.now()
        figures = summary.refresh(now=computed_at)
        stored = page.read(figures["page"], filters, default=page.is_default(request.GET))
    context.update(
        filters=filters,
        **stored,
        stale_count=figures["stale_count"],
        computed_at=computed_at,
        **anomalies.settings_context(),
    )
    return render(request, "usage/access.html", context)


@require_groups(*READERS)
@require_GET
def cost_view(request):
    return render(request, "usage/cost.html", {"estimate": cost.estimate(), **anomalies.settings_context()})
