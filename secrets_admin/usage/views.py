"""Access patterns and cost pages: read-only, for the security team, the CTO and managers.
Thin: parse the filters (a bad one answers 400 with what to fix), call the services, render."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from secrets_admin.accounts.access import require_groups
from secrets_admin.roles import CTO, MANAGERS, SECURITY_TEAM
from secrets_admin.usage.services import anomalies, cost, patterns
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
    unit, periods = patterns.per_period(filters)
    context.update(
        filters=filters,
        unit=unit,
        periods=periods,
        total=patterns.total(filters),
        secrets=patterns.per_secret(filters),
        identities=patterns.per_identity(filters),
        spikes=anomalies.spikes(),
        stale=anomalies.stale(),
        stale_count=anomalies.stale_count(),
        **anomalies.settings_context(),
        aws_reads=patterns.aws_last_accessed(),
    )
    return render(request, "usage/access.html", context)


@require_groups(*READERS)
@require_GET
def cost_view(request):
    return render(request, "usage/cost.html", {"estimate": cost.estimate(), **anomalies.settings_context()})
