"""The audit page (security-team, cto, managers): filter, page, inspect, export; the security
team acknowledges breaks of the chain there."""

import json

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.handlers.asgi import ASGIRequest
from django.core.paginator import Paginator
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.functional import cached_property
from django.views.decorators.http import require_GET, require_POST

from secrets_admin.accounts.access import require_groups
from secrets_admin.accounts.stepup import StepUpForm
from secrets_admin.audit import actions, breaks, exports, wording
from secrets_admin.audit.filters import AuditEntryFilter
from secrets_admin.audit.models import AuditCheckpoint, AuditEntry
from secrets_admin.audit.status import chain_status
from secrets_admin.roles import CTO, MANAGERS, SECURITY_TEAM

AUDIT_READERS = (SECURITY_TEAM, CTO, MANAGERS)
PER_PAGE = 50
COUNT_BOUND = 10_000


class BoundedPaginator(Paginator):
    """Counts at most COUNT_BOUND + 1 rows, so a page costs the same on a million entries."""

    @cached_property
    def count(self):
        return self.object_list[: COUNT_BOUND + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > COUNT_BOUND


def _filtered(request):
    """(filterset, queryset or None when the filter is invalid)."""
    filterset = AuditEntryFilter(request.GET or None, queryset=AuditEntry.objects.all())
    if filterset.is_bound and not filterset.is_valid():
        return filterset, None
    return filterset, filterset.qs


@require_GET
@require_groups(*AUDIT_READERS)
def entry_list(request):
    filterset, queryset = _filtered(request)
    page = None
    paginator = None
    if queryset is not None:
        paginator = BoundedPaginator(queryset.select_related(None).newest_first(), PER_PAGE)
        page = paginator.get_page(request.GET.get("page"))
        for entry in page:  # each row reads as one sentence, its target a link
            entry.sentence = wording.sentence(entry)
    return render(
        request,
        "audit/entry_list.html",
        {
            "filter": filterset,
            "page": page,
            "paginator": paginator,
            "count_bound": COUNT_BOUND,
            "status": chain_status(),
            "ack_form": AcknowledgeForm(),
        },
    )


@require_GET
@require_groups(*AUDIT_READERS)
def entry_detail(request, sequence: int):
    entry = get_object_or_404(AuditEntry, sequence=sequence)
    return render(
        request,
        "audit/entry_detail.html",
        {
            "entry": entry,
            "data_json": json.dumps(entry.data, indent=2, sort_keys=True, ensure_ascii=False),
            "description": actions.describe(entry.action),
            "sentence": wording.sentence(entry),
            "actor_words": wording.actor_words(entry.actor_name),
            "target_type_words": wording.target_type_words(entry.target_type) if entry.target_type else "",
            "target_url": wording.target_url(entry),
            "status": chain_status(),
        },
    )


@require_GET
@require_groups(*AUDIT_READERS)
def export(request, fmt: str):
    filterset, queryset = _filtered(request)
    if queryset is None:
        problems = "; ".join(f"{name}: {' '.join(errors)}" for name, errors in filterset.errors.items())
        return HttpResponseBadRequest(
            f"Fix the filter before exporting ({problems}).", content_type="text/plain"
        )
    entry, chunks = exports.do_export(
        actor=request.user,
        fmt=fmt,
        queryset=queryset,
        filters=filterset.used(),
        request=request,
        asynchronous=isinstance(request, ASGIRequest),  # Daphne streams async; WSGI servers sync
    )
    response = StreamingHttpResponse(chunks, content_type=exports.FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="audit-{entry.sequence}.{fmt}"'
    response["Cache-Control"] = "no-store"
    return response


class AcknowledgeForm(StepUpForm):
    note = forms.CharField(
        label="What you found and did",
        min_length=10,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
    )


@require_POST
@require_groups(SECURITY_TEAM)
def acknowledge_break(request, checkpoint_id: int):
    """A security-team member acknowledges one open break with a one-time code."""
    checkpoint = get_object_or_404(AuditCheckpoint, pk=checkpoint_id, ok=False)
    form = AcknowledgeForm(request.POST)
    if form.is_valid():
        try:
            breaks.do_acknowledge_break(
                checkpoint.pk,
                actor=request.user,
                otp=form.cleaned_data["otp_code"],
                note=form.cleaned_data["note"],
                request=request,
            )
        except ValidationError as exc:  # StepUpFailed is one
            form.add_error(None, exc)
        else:
            messages.success(request, f"Break at entry #{checkpoint.broken_at} acknowledged.")
            return redirect("audit:list")
    status = chain_status()
    context = {"status": status, "ack_form": form, "ack_for": checkpoint.pk, "page": None, "filter": None}
    return render(request, "audit/acknowledge.html", context, status=400)
