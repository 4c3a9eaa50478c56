"""The evidence measures: one small function per measure, each a few aggregate queries.

A measure answers pass / partial / fail (or "none": nothing to measure) with the numbers behind
it and the first failing items (at most `limit`; the count is always complete). State measures
(rotation, MFA, expiry, the ledger) describe the estate at `period.now`; event measures (dual
control, grants) the events inside [period.start, period.end). Every count is one aggregate over
indexed columns; only the listed failing items are read row by row.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, F, Func, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse

PASS, PARTIAL, FAIL, NONE = "pass", "partial", "fail", "none"
STATUS_WORDS = {PASS: "Pass", PARTIAL: "Partial", FAIL: "Fail", NONE: "No evidence"}
RANK = {PASS: 0, NONE: 0, PARTIAL: 1, FAIL: 2}


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime
    now: datetime


@dataclass
class Item:
    kind: str  # secret, person, request, grant, break, certificate
    id: str
    name: str
    reason: str
    url: str = ""


@dataclass
class Result:
    measure: str
    status: str
    summary: str
    numbers: dict
    failing_count: int = 0
    failing: list[Item] = field(default_factory=list)
    list_url: str = ""  # the existing filtered list of the failing items, where there is one


def by_share(passing: int, total: int, partial_at: float) -> str:
    if total == 0:
        return NONE
    if passing >= total:
        return PASS
    return PARTIAL if passing / total >= partial_at else FAIL


def _pct(passing: int, total: int) -> str:
    return f"{100 * passing / total:.1f}%" if total else "—"


def rotation_within_policy(period: Period, params: dict, limit: int = 50) -> Result:
    from secrets_admin.inventory.models import Secret
    from secrets_admin.inventory.models.choices import Kind, Status
    from secrets_admin.schedule.models import SecretOverride

    exempt = SecretOverride.objects.filter(secret=OuterRef("pk"), exempt_until__gt=period.now)
    secrets = (
        Secret.objects.filter(rotation_policy__isnull=False)
        .exclude(kind=Kind.CERTIFICATE)
        .exclude(status=Status.MISSING)
        .annotate(exempt=Exists(exempt))
    )
    late = Q(status=Status.OVERDUE, exempt=False)
    n = secrets.aggregate(
        total=Count("pk"), exempt_n=Count("pk", filter=Q(exempt=True)), late=Count("pk", filter=late)
    )
    measured = n["total"] - n["exempt_n"]
    passing = measured - n["late"]
    rows = (
        secrets.filter(late)
        .order_by("next_due", "pk")
        .values_list("pk", "backend", "path", "next_due")[:limit]
    )
    return Result(
        "rotation_within_policy",
        by_share(passing, measured, params["partial_at"]),
        f"{passing} of {measured} secrets under a rotation policy are within it ({_pct(passing, measured)}); "
        f"{n['late']} overdue, {n['exempt_n']} exempt with a reason.",
        {"secrets": measured, "within_policy": passing, "overdue": n["late"], "exempt": n["exempt_n"]},
        n["late"],
        [
            Item(
                "secret",
                str(pk),
                f"{backend}:{path}",
                f"rotation was due {due:%Y-%m-%d %H:%M} UTC" if due else "overdue",
                reverse("inventory:detail", args=[pk]),
            )
            for pk, backend, path, due in rows
        ],
        reverse("inventory:list") + "?" + urlencode({"status": Status.OVERDUE}),
    )


def mfa_privileged(period: Period, params: dict, limit: int = 50) -> Result:
    from secrets_admin.accounts.models import AuthenticatorDevice

    users = get_user_model()
    member = users.groups.through.objects.filter(user=OuterRef("pk"), group__name__in=params["groups"])
    device = AuthenticatorDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
    # The dashboard's definition too: the groups named, and superusers.
    privileged = Q(Exists(member)) | Q(is_superuser=True)
    people = users.objects.filter(privileged, is_active=True).annotate(has_device=Exists(device))
    n = people.aggregate(total=Count("pk"), covered=Count("pk", filter=Q(has_device=True)))
    rows = people.filter(has_device=False).order_by("username").values_list("pk", "username")[:limit]
    groups = " or ".join(params["groups"])
    return Result(
        "mfa_privileged",
        by_share(n["covered"], n["total"], params["partial_at"]),
        f"{n['covered']} of {n['total']} people in {groups} (and superusers) have a confirmed authenticator "
        f"({_pct(n['covered'], n['total'])}).",
        {"privileged_people": n["total"], "with_mfa": n["covered"], "without_mfa": n["total"] - n["covered"]},
        n["total"] - n["covered"],
        [
            Item(
                "person",
                str(pk),
                name,
                "no confirmed authenticator",
                reverse("audit:list") + "?" + urlencode({"person": name}),
            )
            for pk, name in rows
        ],
    )


def dual_control_emergency(period: Period, params: dict, limit: int = 50) -> Result:
    from breakglass.models import AccessRequest, Approval
    from breakglass.models.request import Kind

    # Approvals that count: not voided, with a one-time code as proof, not by the requester.
    approvers = (
        Approval.objects.filter(request=OuterRef("pk"), voided_at__isnull=True, used_code__isnull=False)
        .exclude(approver=OuterRef("requester"))
        .order_by()
        .values("request")
        .annotate(n=Count("approver", distinct=True))
        .values("n")
    )
    requests = AccessRequest.objects.filter(
        kind=Kind.BREAK_GLASS, approved_at__gte=period.start, approved_at__lt=period.end
    ).annotate(approvers=Coalesce(Subquery(approvers, output_field=IntegerField()), 0))
    n = requests.aggregate(total=Count("pk"), dual=Count("pk", filter=Q(approvers__gte=2)))
    rows = (
        requests.filter(approvers__lt=2)
        .order_by("approved_at", "pk")
        .values_list("pk", "requester_name", "approvers")[:limit]
    )
    return Result(
        "dual_control_emergency",
        by_share(n["dual"], n["total"], params["partial_at"]),
        f"{n['dual']} of {n['total']} break-glass requests approved in the period had two distinct "
        "approvers with one-time codes.",
        {
            "break_glass_approved": n["total"],
            "dual_control": n["dual"],
            "single_control": n["total"] - n["dual"],
        },
        n["total"] - n["dual"],
        [
            Item(
                "request",
                str(pk),
                f"request #{pk} by {who}",
                f"{count} qualifying approver(s), 2 needed",
                reverse("breakglass:detail", args=[pk]),
            )
            for pk, who, count in rows
        ],
    )


def audit_integrity(period: Period, params: dict, limit: int = 50) -> Result:
    from secrets_admin.audit.status import chain_status

    state = chain_status()
    verified = state.verified
    age_h = (period.now - verified[1]).total_seconds() / 3600 if verified else None
    numbers = {
        "head": state.head or 0,
        "open_breaks": len(state.open_breaks),
        "verified_up_to": verified[0] if verified else 0,
        "verified_hours_ago": round(age_h, 2) if age_h is not None else None,
        "anchor_stale": state.anchor.stale,
        "anchor_configured": state.anchor.configured,
    }
    failing = [
        Item("break", str(b.pk), f"entry #{b.broken_at}", b.problem, reverse("audit:list"))
        for b in state.open_breaks[:limit]
    ]
    if not state.head:
        status, words = NONE, "The ledger has no linked entries yet."
    elif state.open_breaks:
        status, words = FAIL, f"{len(state.open_breaks)} unacknowledged break(s) of the audit chain."
    elif (
        age_h is None
        or age_h > params["verified_within_hours"]
        or state.anchor.stale
        or not state.anchor.configured
    ):
        status = PARTIAL
        why = []
        if age_h is None or age_h > params["verified_within_hours"]:
            why.append(f"not verified in the last {params['verified_within_hours']} h")
        if state.anchor.stale:
            why.append("the anchor is stale")
        if not state.anchor.configured:
            why.append("anchoring is off")
        words = "The chain has no open break, but " + " and ".join(why) + "."
    else:
        status = PASS
        words = f"The chain is intact, verified up to #{verified[0]} {age_h:.1f} h ago"
        words += ", anchored outside the database."
    return Result(
        "audit_integrity", status, words, numbers, len(state.open_breaks), failing, reverse("audit:list")
    )


class JsonArrayLength(Func):
    output_field = IntegerField()

    def as_sql(self, compiler, connection, **extra):
        function = "jsonb_array_length" if connection.vendor == "postgresql" else "json_array_length"
        return super().as_sql(compiler, connection, function=function, **extra)


GRACE = timedelta(minutes=10)  # beat ends grants every 30 s; anything past this was missed


def least_privilege_grants(period: Period, params: dict, limit: int = 50) -> Result:
    from breakglass.models import Grant
    from breakglass.models.grant import GrantState
    from breakglass.models.request import Kind

    too_long = Q(
        request__kind=Kind.BREAK_GLASS, request__duration_seconds__gt=settings.BREAKGLASS_MAX_HOURS * 3600
    ) | Q(request__kind=Kind.STANDARD, request__duration_seconds__gt=settings.ACCESS_MAX_HOURS * 3600)
    too_wide = Q(scope_size__gt=params["max_scope"])
    outlived = Q(state=GrantState.ACTIVE, expires_at__lt=period.now - GRACE)
    lingering = Q(
        state__in=(GrantState.ENDED, GrantState.REVOKED),
        token_gone_at__isnull=True,
        ended_at__lt=period.now - GRACE,
    )
    bad = too_long | too_wide | outlived | lingering
    grants = (
        Grant.objects.filter(
            Q(issued_at__gte=period.start, issued_at__lt=period.end) | Q(state=GrantState.ACTIVE)
        )
        .exclude(issued_at__isnull=True)
        .annotate(scope_size=JsonArrayLength(F("request__scope")))
    )
    n = grants.aggregate(total=Count("pk"), bad=Count("pk", filter=bad))
    items = []
    for grant in grants.filter(bad).select_related("request").order_by("issued_at", "pk")[:limit]:
        reasons = []
        cap = (
            settings.BREAKGLASS_MAX_HOURS
            if grant.request.kind == Kind.BREAK_GLASS
            else settings.ACCESS_MAX_HOURS
        )
        if grant.request.duration_seconds > cap * 3600:
            reasons.append(f"{grant.request.duration_words} is longer than the {cap} h cap")
        if grant.scope_size > params["max_scope"]:
            reasons.append(f"{grant.scope_size} secrets in scope (at most {params['max_scope']})")
        if grant.state == GrantState.ACTIVE and grant.expires_at < period.now - GRACE:
            reasons.append("still active after its expiry")
        if grant.state in (GrantState.ENDED, GrantState.REVOKED) and grant.token_gone_at is None:
            reasons.append("ended, but OpenBao never confirmed the token gone")
        items.append(
            Item(
                "grant",
                str(grant.pk),
                f"grant #{grant.pk} ({grant.request.requester_name})",
                "; ".join(reasons),
                reverse("breakglass:grant", args=[grant.pk]),
            )
        )
    passing = n["total"] - n["bad"]
    return Result(
        "least_privilege_grants",
        by_share(passing, n["total"], params["partial_at"]),
        f"{passing} of {n['total']} grants of the period (or active now) stayed within their "
        "duration cap and "
        f"scope, and ended on time ({_pct(passing, n['total'])}).",
        {"grants": n["total"], "within_limits": passing, "over_limits": n["bad"]},
        n["bad"],
        items,
    )


def key_expiry(period: Period, params: dict, limit: int = 50) -> Result:
    from secrets_admin.inventory.models import Secret
    from secrets_admin.inventory.models.choices import Kind, Status

    warn_until = period.now + timedelta(days=params["warn_days"])
    critical_until = period.now + timedelta(days=params["critical_days"])
    # Renewed: another certificate for the same name in the same backend outlives the warning.
    renewal = Secret.objects.filter(
        kind=Kind.CERTIFICATE, backend=OuterRef("backend"), name=OuterRef("name"), expires_at__gt=warn_until
    ).exclude(status=Status.MISSING)
    certificates = (
        Secret.objects.filter(kind=Kind.CERTIFICATE, expires_at__isnull=False)
        .exclude(status=Status.MISSING)
        .annotate(renewed=Exists(renewal))
    )
    critical = Q(expires_at__lte=critical_until, renewed=False)
    warning = Q(expires_at__gt=critical_until, expires_at__lte=warn_until, renewed=False)
    n = certificates.aggregate(
        total=Count("pk"),
        critical=Count("pk", filter=critical),
        warning=Count("pk", filter=warning),
        expired=Count("pk", filter=Q(expires_at__lte=period.now, renewed=False)),
    )
    rows = (
        certificates.filter(critical | warning)
        .order_by("expires_at", "pk")
        .values_list("pk", "backend", "name", "path", "expires_at")[:limit]
    )
    if n["total"] == 0:
        status = NONE
    else:
        status = FAIL if n["critical"] else PARTIAL if n["warning"] else PASS
    return Result(
        "key_expiry",
        status,
        f"{n['total']} certificates: {n['expired']} expired and {n['critical'] - n['expired']} within "
        f"{params['critical_days']} days without a renewal, {n['warning']} more within "
        f"{params['warn_days']} days.",
        {
            "certificates": n["total"],
            "expired": n["expired"],
            "critical": n["critical"],
            "warning": n["warning"],
        },
        n["critical"] + n["warning"],
        [
            Item(
                "certificate",
                str(pk),
                f"{backend}:{name or path}",
                ("expired " if at <= period.now else "expires ") + f"{at:%Y-%m-%d} without a renewal",
                reverse("inventory:detail", args=[pk]),
            )
            for pk, backend, name, path, at in rows
        ],
        reverse("inventory:list") + "?" + urlencode({"kind": Kind.CERTIFICATE, "status": Status.OVERDUE}),
    )


MEASURES = {
    "rotation_within_policy": (rotation_within_policy, "Rotation within policy"),
    "mfa_privileged": (mfa_privileged, "MFA for privileged access"),
    "dual_control_emergency": (dual_control_emergency, "Dual control of emergency access"),
    "audit_integrity": (audit_integrity, "Audit integrity (chain and anchors)"),
    "least_privilege_grants": (least_privilege_grants, "Least privilege of grants"),
    "key_expiry": (key_expiry, "Key and certificate expiry"),
}


def title(measure: str) -> str:
    return MEASURES[measure][1]
