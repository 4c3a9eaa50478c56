"""Access request pages. Thin: an access check, a form, one service call, render or redirect.

Requesters (developers, security-team, cto) ask and see their own; approvers (security-team,
cto) see the queue and decide; managers read requests, grants and evidence. A grant's token is
shown once, on the page answering its reveal, never stored by the browser (no-store)."""

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from breakglass import forms, live, policy
from breakglass.models import AccessRequest, Grant, IncidentReview
from breakglass.models.request import Kind, Status
from breakglass.services import after, approve, grants, requests
from console import live as console_live
from console.no_store import no_store
from secrets_admin.accounts.access import require_groups, user_in
from secrets_admin.inventory.models import Secret
from secrets_admin.roles import CTO, MANAGERS, SECURITY_TEAM

REQUESTERS = policy.REQUESTERS
READERS = (*REQUESTERS, MANAGERS)
OVERSEERS = (SECURITY_TEAM, CTO, MANAGERS)  # see every request, grant and timeline


def _visible_request(request, pk) -> AccessRequest:
    access = get_object_or_404(AccessRequest, pk=pk)
    if access.requester_id != request.user.pk and not user_in(request.user, *OVERSEERS, *access.groups):
        raise PermissionDenied("This request is for its requester, its approvers and the security team.")
    return access


def _refusals(form, exc: ValidationError):
    field = getattr(exc, "field", None)
    if getattr(exc, "reason", None):  # a step-up code was refused
        field = "otp_code"
    form.add_error(field if field in form.fields else None, exc.messages)


@require_groups(*REQUESTERS)
@require_GET
def mine(request):
    rows = AccessRequest.objects.filter(requester=request.user).select_related("grant")[:200]
    return render(request, "breakglass/mine.html", {"requests": rows})


@require_groups(*REQUESTERS)
@require_http_methods(["GET", "POST"])
def new(request):
    initial = {"duration": "4h", "record_session": True}
    secret = (
        Secret.objects.filter(pk=request.GET.get("secret") or 0).first()
        if str(request.GET.get("secret", "")).isdigit()
        else None
    )
    if secret is not None:
        initial["scope"] = secret.path
    if request.GET.get("kind") in Kind.values:
        initial["kind"] = request.GET["kind"]
    form = forms.RequestForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            access = requests.do_request(
                actor=request.user,
                kind=data["kind"],
                reason=data["reason"],
                scope=data["scope"],
                duration=data["duration"],
                groups=data["groups"],
                ticket=data["ticket"],
                record_session=data["record_session"],
                request=request,
            )
        except ValidationError as exc:
            _refusals(form, exc)
        else:
            messages.success(request, f"Request #{access.pk} sent to {' and '.join(access.groups)}.")
            return redirect(access)
    status = 400 if request.method == "POST" else 200
    return render(request, "breakglass/new.html", {"form": form, "secret": secret}, status=status)


@require_groups(*live.APPROVERS)
@require_GET
def queue(request):
    url = console_live.socket_url(live.QUEUE, "queue")
    return render(request, "breakglass/queue.html", {"pending": live.pending(), "live_url": url})


@require_groups(*READERS)
@require_GET
def detail(request, pk):
    access = _visible_request(request, pk)
    return render(request, "breakglass/detail.html", _detail_context(request, access))


def _detail_context(request, access, **forms_given) -> dict:
    user = request.user
    can_decide = (
        access.status == Status.PENDING and access.requester_id != user.pk and user_in(user, *access.groups)
    )
    since = timezone.now() - timedelta(days=30)
    recent = (
        Grant.objects.filter(request__requester_id=access.requester_id, issued_at__gte=since)
        .exclude(request=access)
        .select_related("request")
        .order_by("-issued_at")[:50]
    )
    return {
        "access": access,
        "approvals": access.approvals.select_related("used_code").all(),
        "recent_grants": recent,
        "can_decide": can_decide,
        "slots": approve.open_slots(access, user) if can_decide else [],
        "already_approved": access.approvals.filter(voided_at__isnull=True, approver=user).exists(),
        "approve_form": forms_given.get("approve_form")
        or forms.ApproveForm(initial={"seen_hash": access.request_hash}),
        "deny_form": forms_given.get("deny_form") or forms.DenyForm(),
        "grant": Grant.objects.filter(request=access).first(),
        "is_requester": access.requester_id == user.pk,
    }


@require_groups(*live.APPROVERS)
@require_POST
def approve_view(request, pk):
    access = _visible_request(request, pk)
    form = forms.ApproveForm(request.POST)
    if form.is_valid():
        try:
            approve.do_approve(
                access.pk,
                actor=request.user,
                code=form.cleaned_data["otp_code"],
                seen_hash=form.cleaned_data["seen_hash"],
                request=request,
            )
        except ValidationError as exc:
            _refusals(form, exc)
        else:
            messages.success(request, "Approved.")
            return redirect(access)
    access.refresh_from_db()
    return render(
        request, "breakglass/detail.html", _detail_context(request, access, approve_form=form), status=400
    )


@require_groups(*live.APPROVERS)
@require_POST
def deny_view(request, pk):
    access = _visible_request(request, pk)
    form = forms.DenyForm(request.POST)
    if form.is_valid():
        try:
            requests.do_deny(access.pk, actor=request.user, note=form.cleaned_data["note"], request=request)
        except ValidationError as exc:
            _refusals(form, exc)
        else:
            messages.success(request, "Denied. The requester has been told.")
            return redirect(access)
    return render(
        request, "breakglass/detail.html", _detail_context(request, access, deny_form=form), status=400
    )


@require_groups(*REQUESTERS)
@require_http_methods(["GET", "POST"])
def edit(request, pk):
    access = get_object_or_404(AccessRequest, pk=pk)
    if access.requester_id != request.user.pk:
        raise PermissionDenied("Only the person who asked can edit a request.")
    initial = {
        "kind": access.kind,
        "scope": "\n".join(access.paths),
        "reason": access.reason,
        "ticket": access.ticket,
        "duration": f"{access.duration_seconds // 60}m",
        "groups": ", ".join(access.groups),
        "record_session": access.record_session,
    }
    form = forms.RequestForm(request.POST or None, initial=initial)
    form.fields["kind"].disabled = True
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            requests.do_edit(
                access.pk,
                actor=request.user,
                reason=data["reason"],
                scope=data["scope"],
                duration=data["duration"],
                groups=data["groups"],
                ticket=data["ticket"],
                record_session=data["record_session"],
                request=request,
            )
        except ValidationError as exc:
            _refusals(form, exc)
        else:
            messages.success(request, "Saved. Its approvals start over.")
            return redirect(access)
    status = 400 if request.method == "POST" else 200
    return render(request, "breakglass/edit.html", {"form": form, "access": access}, status=status)


def _visible_grant(request, pk) -> Grant:
    grant = get_object_or_404(Grant.objects.select_related("request"), pk=pk)
    if grant.request.requester_id != request.user.pk and not user_in(request.user, *OVERSEERS):
        raise PermissionDenied("This grant is for its requester and the security team.")
    return grant


def _grant_context(request, grant, **extra) -> dict:
    watching = user_in(request.user, SECURITY_TEAM, CTO)
    url = (
        console_live.socket_url(live.SESSIONS, "timeline", grant=grant.pk) if watching and grant.live else ""
    )
    return {
        "grant": grant,
        "access": grant.request,
        "events": grant.events.all()[:1000],
        "live_url": url,
        "is_requester": grant.request.requester_id == request.user.pk,
        "may_end": grants.may_end(request.user, grant) and grant.state == "active",
        "reveal_form": extra.pop("reveal_form", None) or forms.CodeForm(),
        "end_form": extra.pop("end_form", None) or forms.EndForm(),
        "vault_addr": settings.SECRET_BACKENDS.get(grant.backend, {}).get("public_url")
        or settings.SECRET_BACKENDS.get(grant.backend, {}).get("url", ""),
        "issue_lines": grants.certificate_commands(grant),
        **extra,
    }


@require_groups(*READERS)
@require_GET
def grant_view(request, pk):
    grant = _visible_grant(request, pk)
    return render(request, "breakglass/grant.html", _grant_context(request, grant))


@no_store
@require_groups(*REQUESTERS)
@require_POST
def reveal(request, pk):
    grant = _visible_grant(request, pk)
    form = forms.CodeForm(request.POST)
    if form.is_valid():
        try:
            token = grants.do_reveal(
                grant.pk, actor=request.user, code=form.cleaned_data["otp_code"], request=request
            )
        except ValidationError as exc:
            _refusals(form, exc)
        else:
            grant.refresh_from_db()
            return render(request, "breakglass/grant.html", _grant_context(request, grant, token=token))
    return render(
        request, "breakglass/grant.html", _grant_context(request, grant, reveal_form=form), status=400
    )


@require_groups(*REQUESTERS)
@require_POST
def end_view(request, pk):
    grant = _visible_grant(request, pk)
    form = forms.EndForm(request.POST)
    if form.is_valid():
        try:
            grants.do_end(
                grant.pk,
                actor=request.user,
                code=form.cleaned_data["otp_code"],
                reason=form.cleaned_data["reason"],
                request=request,
            )
        except ValidationError as exc:
            _refusals(form, exc)
        except grants.BackendError:
            form.add_error(None, "OpenBao did not confirm the token is gone: try again in a minute.")
        else:
            messages.success(request, "The grant is over: OpenBao confirmed its token is gone.")
            return redirect(grant)
    return render(request, "breakglass/grant.html", _grant_context(request, grant, end_form=form), status=400)


@require_groups(*OVERSEERS)
@require_GET
def overview(request):
    status = request.GET.get("status", "")
    rows = AccessRequest.objects.select_related("grant")
    if status:
        if status not in Status.values:
            return render(
                request,
                "breakglass/all.html",
                {"requests": [], "error": f"Status must be one of {', '.join(Status.values)}."},
                status=400,
            )
        rows = rows.filter(status=status)
    reviews = IncidentReview.objects.filter(Q(signed_off_at__isnull=True)).select_related("grant__request")[
        :50
    ]
    return render(
        request,
        "breakglass/all.html",
        {"requests": rows[:200], "status": status, "reviews": reviews, "statuses": Status.choices},
    )


@require_groups(SECURITY_TEAM)
@require_POST
def review(request, pk):
    found = get_object_or_404(IncidentReview.objects.select_related("grant"), pk=pk)
    action = request.POST.get("action")
    try:
        if action == "notes":
            after.do_review_notes(
                found.pk, actor=request.user, notes=request.POST.get("notes", ""), request=request
            )
            messages.success(request, "Notes saved.")
        elif action == "sign_off":
            after.do_sign_off(
                found.pk, actor=request.user, code=request.POST.get("otp_code", ""), request=request
            )
            messages.success(request, "Review signed off.")
        else:
            return render(
                request,
                "breakglass/message.html",
                {"message": "Choose to save notes or to sign off."},
                status=400,
            )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("breakglass:evidence", pk=found.grant.request_id)
    return redirect("breakglass:evidence", pk=found.grant.request_id)
