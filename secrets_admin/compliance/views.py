"""Compliance pages (security-team, cto, managers; read-only but for the audited export)."""

from django.core.handlers.asgi import ASGIRequest
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods

from secrets_admin.accounts.access import require_groups
from secrets_admin.compliance import mapping
from secrets_admin.compliance.forms import ExportForm, PeriodForm
from secrets_admin.compliance.measures import STATUS_WORDS, title
from secrets_admin.compliance.services import evidence, scoring
from secrets_admin.roles import CTO, MANAGERS, SECURITY_TEAM

READERS = (SECURITY_TEAM, CTO, MANAGERS)


def _period(request):
    """(period, days, None) or (None, None, the 400 response naming what to fix)."""
    form = PeriodForm(request.GET)
    if not form.is_valid():
        problems = "; ".join(" ".join(errors) for errors in form.errors.values())
        response = render(request, "compliance/bad_period.html", {"problems": problems}, status=400)
        return None, None, response
    days = form.cleaned_data["days"]
    return scoring.period_for(days), days, None


def _framework(framework_id: str) -> mapping.Framework:
    found = mapping.frameworks().framework(framework_id)
    if found is None:
        raise Http404(f"No framework {framework_id!r} in the mapping.")
    return found


@require_GET
@require_groups(*READERS)
def index(request):
    period, days, refused = _period(request)
    if refused:
        return refused
    results = scoring.evaluate(period)
    context = {"results": results, "days": days, "period": period, "words": STATUS_WORDS}
    return render(request, "compliance/index.html", context)


@require_GET
@require_groups(*READERS)
def framework(request, framework: str):
    chosen = _framework(framework)
    period, days, refused = _period(request)
    if refused:
        return refused
    (result,) = scoring.evaluate(period, frameworks=[chosen.id])
    context = {"result": result, "days": days, "period": period, "words": STATUS_WORDS, "title": title}
    return render(request, "compliance/framework.html", context)


@require_GET
@require_groups(*READERS)
def control(request, framework: str, control: str):
    chosen = _framework(framework)
    found = chosen.control(control)
    if found is None:
        raise Http404(f"No control {control!r} in {chosen.name}.")
    period, days, refused = _period(request)
    if refused:
        return refused
    results = scoring.measure(period, found.measures, limit=200)
    rows = [(name, title(name), results[name]) for name in found.measures]
    context = {
        "framework": chosen,
        "control": found,
        "status": scoring.control_status(list(results.values())),
        "rows": rows,
        "days": days,
        "period": period,
        "words": STATUS_WORDS,
    }
    return render(request, "compliance/control.html", context)


@require_http_methods(["GET", "POST"])
@require_groups(*READERS)
def export(request):
    """The evidence export form; a valid POST streams the zip (audited before the first byte)."""
    form = ExportForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        start, end = form.bounds()
        export_, chunks = evidence.start_export(
            framework_id=form.cleaned_data["framework"],
            start=start,
            end=end,
            actor=request.user,
            request=request,
            asynchronous=isinstance(request, ASGIRequest),
        )
        response = StreamingHttpResponse(chunks, content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="{export_.filename}"'
        response["Cache-Control"] = "no-store"
        return response
    status = 400 if request.method == "POST" else 200
    return render(request, "compliance/export.html", {"form": form}, status=status)
