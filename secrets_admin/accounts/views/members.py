"""The security team's Members page: group membership, and accounts locked out by wrong
passwords. Every change takes a fresh one-time code and is audited by its service."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from secrets_admin.accounts import lockout, members
from secrets_admin.accounts.access import require_groups
from secrets_admin.accounts.forms import MembershipForm, UnlockForm
from secrets_admin.accounts.stepup import StepUpFailed
from secrets_admin.roles import GROUPS, SECURITY_TEAM

UNLOCK = "unlock"  # form prefix: the page holds two forms with a code box each


def _page(request, *, form=None, unlock_form=None, status=200):
    locked = lockout.locked_accounts()
    people = get_user_model().objects.filter(is_active=True).prefetch_related("groups").order_by("username")
    return render(
        request,
        "accounts/members.html",
        {
            "form": form or MembershipForm(actor=request.user),
            "unlock_form": unlock_form or UnlockForm(locked=locked, prefix=UNLOCK),
            "locked": locked,
            "people": people,
            "groups": Group.objects.filter(name__in=GROUPS).order_by("name"),
        },
        status=status,
    )


@require_groups(SECURITY_TEAM)
def members_page(request):
    if request.method != "POST":
        return _page(request)
    form = MembershipForm(request.POST, actor=request.user)
    if not form.is_valid():
        members.record_refused(
            actor=request.user,
            reason="invalid_form",
            data={"fields": sorted(k for k in form.errors if k != "otp_code") or ["otp_code"]},
            request=request,
        )
        return _page(request, form=form, status=400)
    data = form.cleaned_data
    try:
        changed = members.do_change_membership(
            actor=request.user,
            user=data["user"],
            group=data["group"],
            change=data["change"],
            otp_code=data["otp_code"],
            request=request,
        )
    except StepUpFailed as exc:
        form.add_error("otp_code", exc)
        return _page(request, form=form, status=400)
    except (ValidationError, PermissionDenied) as exc:
        members.record_refused(
            actor=request.user, reason="rejected", data={"error": str(exc)[:200]}, request=request
        )
        form.add_error(None, exc.messages[0] if isinstance(exc, ValidationError) else str(exc))
        return _page(request, form=form, status=400)
    verb = "added to" if data["change"] == members.ADD else "removed from"
    messages.success(
        request,
        f"{data['user']} {verb} {data['group'].name}."
        if changed
        else "Nothing to change: membership was already like that.",
    )
    return redirect("accounts:members")


@require_POST
@require_groups(SECURITY_TEAM)
def unlock(request):
    """Lift the lockouts of one account (every IP), with a fresh code."""
    form = UnlockForm(request.POST, locked=lockout.locked_accounts(), prefix=UNLOCK)
    if not form.is_valid():  # e.g. the account was unlocked meanwhile: nothing changed, nothing to audit
        return _page(request, unlock_form=form, status=400)
    user = form.cleaned_data["user"]
    try:
        cleared = lockout.do_unlock(
            actor=request.user, user=user, otp_code=form.cleaned_data["otp_code"], request=request
        )
    except StepUpFailed as exc:
        form.add_error("otp_code", exc)
        return _page(request, unlock_form=form, status=400)
    if cleared:
        messages.success(request, f"{user} can log in again.")
    else:
        messages.info(request, f"{user} was no longer locked out.")
    return redirect("accounts:members")
