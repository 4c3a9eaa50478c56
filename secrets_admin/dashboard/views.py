"""The dashboard's drill-down lists (read-only, for the dashboard's groups). Thin: check the
query string, one service call, render."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from secrets_admin.accounts.access import require_groups
from secrets_admin.dashboard.forms import RunRangeForm
from secrets_admin.dashboard.services import runs as run_service
from secrets_admin.dashboard.tiles import VIEWERS


@require_groups(*VIEWERS)
@require_GET
def mfa(request):
    return render(request, "dashboard/mfa.html", run_service.privileged_people())


@require_groups(*VIEWERS)
@require_GET
def runs(request):
    form = RunRangeForm(request.GET)
    if not form.is_valid():
        problems = [str(e) for errors in form.errors.values() for e in errors]
        return render(request, "dashboard/runs.html", {"form": form, "problems": problems}, status=400)
    low, high = form.window()
    context = {
        "form": form,
        "low": low,
        "high": high,
        **run_service.page(low, high, form.cleaned_data["outcome"]),
    }
    return render(request, "dashboard/runs.html", context)
