"""The audit page (security-team, cto, managers): filter, page, inspect, export."""

import json

from django.core.handlers.asgi import ASGIRequest
from django.core.paginator import Paginator
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.functional import cached_property
from django.views.decorators.http import require_GET

from secrets_admin.accounts.access import require_groups
from secrets_admin.audit import actions, exports, services, wording
from secrets_admin.audit.filters import AuditEntryFilter
from secrets_admin.audit.models import AuditEntry
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
        paginator = BoundedPaginator(queryset.select_related(None).order_by("-sequence"), PER_PAGE)
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
            "status": services.chain_status(),
            "head": AuditEntry.objects.values_list("sequence", flat=True).first(),
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
            "status": services.chain_status(),
            "head": AuditEntry.objects.values_list("sequence", flat=True).first(),
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
