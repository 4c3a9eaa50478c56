"""Break-glass analytics: requests per team, time to approve, rubber stamps, overdue reviews.

A team is the requester's console group (developers, security-team, cto…): a request counts once
under each group its requester is in now, and under "(no group)" if none. Time to approve runs
from the request (or its last edit, which voids earlier approvals) to its final approval;
median and p90 are nearest-rank percentiles, read with one ORDER BY … OFFSET each rather than by
loading the durations. A rubber stamp is an approval given within BREAKGLASS_RUBBER_STAMP_SECONDS
of the request (or its last edit). A review is overdue once unsigned for BREAKGLASS_REVIEW_DAYS.

Read-only: the page and the home-page panel are for the security team, the CTO and managers.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, DurationField, ExpressionWrapper, F
from django.db.models.functions import Coalesce
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET

from breakglass.models import AccessRequest, Approval, IncidentReview
from secrets_admin.accounts.access import require_groups
from secrets_admin.roles import CTO, MANAGERS, SECURITY_TEAM
from secrets_admin.usage.services.filters import BadFilter, Range, date_range

READERS = (SECURITY_TEAM, CTO, MANAGERS)
NO_GROUP = "(no group)"


@dataclass(frozen=True)
class Analytics:
    range: Range
    per_team: list[tuple[str, int]]
    approved: int
    median: timedelta | None
    p90: timedelta | None
    rubber_stamps: int
    recent_stamps: list
    overdue: list
    overdue_count: int

    @property
    def median_words(self) -> str:
        return wait_words(self.median)

    @property
    def p90_words(self) -> str:
        return wait_words(self.p90)


def wait_words(wait: timedelta | None) -> str:
    """ "42 s", "7 min 5 s", "3 h 12 min"; "—" when nothing was approved."""
    if wait is None:
        return "—"
    seconds = max(0, int(wait.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"


def per_team(span: Range) -> list[tuple[str, int]]:
    asked = AccessRequest.objects.filter(created_at__gte=span.start, created_at__lt=span.end)
    rows = asked.values("requester__groups__name").annotate(n=Count("id", distinct=True))
    found = [(row["requester__groups__name"] or NO_GROUP, row["n"]) for row in rows]
    return sorted(found, key=lambda item: (-item[1], item[0]))  # one row per group


def _waits(span: Range):
    approved = AccessRequest.objects.filter(
        created_at__gte=span.start, created_at__lt=span.end, approved_at__isnull=False
    )
    return approved.annotate(
        wait=ExpressionWrapper(
            F("approved_at") - Coalesce("edited_at", "created_at"), output_field=DurationField()
        )
    )


def percentile(span: Range, share: float, count: int) -> timedelta | None:
    """Nearest rank: the ceil(share × n)-th shortest wait."""
    if not count:
        return None
    rank = max(1, math.ceil(share * count))
    return _waits(span).order_by("wait", "id").values_list("wait", flat=True)[rank - 1]


def rubber_stamps(span: Range):
    seconds = settings.BREAKGLASS_RUBBER_STAMP_SECONDS
    quick = Approval.objects.filter(
        request__created_at__gte=span.start, request__created_at__lt=span.end
    ).annotate(
        after=ExpressionWrapper(
            F("created_at") - Coalesce("request__edited_at", "request__created_at"),
            output_field=DurationField(),
        )
    )
    return quick.filter(after__lte=timedelta(seconds=seconds)).order_by("-created_at", "-id")


def overdue_reviews(now: datetime | None = None):
    cutoff = (now or timezone.now()) - timedelta(days=settings.BREAKGLASS_REVIEW_DAYS)
    return IncidentReview.objects.filter(signed_off_at__isnull=True, opened_at__lte=cutoff).order_by(
        "opened_at"
    )


def analytics(span: Range, *, now: datetime | None = None, lists: bool = True) -> Analytics:
    """The figures; `lists` adds the latest rubber stamps and the overdue reviews (the page's)."""
    approved = _waits(span).count()
    stamps = rubber_stamps(span)
    overdue = overdue_reviews(now)
    return Analytics(
        range=span,
        per_team=per_team(span),
        approved=approved,
        median=percentile(span, 0.5, approved),
        p90=percentile(span, 0.9, approved),
        rubber_stamps=stamps.count(),
        recent_stamps=list(stamps.select_related("request")[:20]) if lists else [],
        overdue=list(overdue.select_related("grant")[:50]) if lists else [],
        overdue_count=overdue.count(),
    )


def _context(span: Range, *, lists: bool = True) -> dict:
    return {
        "analytics": analytics(span, lists=lists),
        "stamp_seconds": settings.BREAKGLASS_RUBBER_STAMP_SECONDS,
        "review_days": settings.BREAKGLASS_REVIEW_DAYS,
    }


@require_groups(*READERS)
@require_GET
def page(request):
    try:
        span = date_range(request.GET, default_days=90)
    except BadFilter as exc:
        return render(
            request, "breakglass/analytics.html", {"error": str(exc), "params": request.GET}, status=400
        )
    return render(request, "breakglass/analytics.html", {**_context(span), "params": request.GET})


def panel(request) -> str:
    """The home page's panel: the last 90 days' figures as the dashboard's planning set stores
    them (beat, every 30 s; dashboard.services.snapshot), read with the page's one snapshot query."""
    from secrets_admin.dashboard.panels import render_once
    from secrets_admin.dashboard.services import snapshot

    row = snapshot.current(request)
    if "breakglass" in row.figures:
        context = {
            "analytics": row.figures["breakglass"],
            "computed_at": row.as_of["breakglass"],
            "stamp_seconds": settings.BREAKGLASS_RUBBER_STAMP_SECONDS,
            "review_days": settings.BREAKGLASS_REVIEW_DAYS,
        }
        return render_once("breakglass/_analytics_panel.html", context)  # the same for everyone
    # a set stored before the panel's figures were kept there (until the next beat)
    context = _context(date_range({}, default_days=90), lists=False)
    return render_to_string("breakglass/_analytics_panel.html", context, request=request)


def register_panel() -> None:
    from secrets_admin.dashboard.panels import register

    register("breakglass-analytics", title="Break-glass analytics", groups=READERS, order=220, render=panel)
