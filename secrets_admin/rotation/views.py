"""Rotation pages: the run list, a run's step log (both live), and "Rotate now" (security team,
one-time code bound to the secret). Thin: access check, one query or one service call."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from secrets_admin.accounts.access import require_groups
from secrets_admin.accounts.stepup import StepUpFailed
from secrets_admin.inventory.models import RotationPolicy, Secret
from secrets_admin.inventory.views import VIEWERS
from secrets_admin.roles import SECURITY_TEAM
from secrets_admin.rotation import live
from secrets_admin.rotation.forms import ClearHookForm, HookForm, RotateNowForm
from secrets_admin.rotation.hooks import hook_for
from secrets_admin.rotation.models import RotationHook, RotationRun
from secrets_admin.rotation.services import RotationRefused, check_rotatable, do_rotate_now
from secrets_admin.rotation.services.hooks import do_clear_hook, do_set_hook


@require_groups(*VIEWERS)
@require_GET
def run_list(request):
    context = {**live.page_context("runs"), "runs": live.recent_runs(), "runs_shown": live.RUNS_SHOWN}
    return render(request, "rotation/run_list.html", context)


@require_groups(*VIEWERS)
@require_GET
def run_detail(request, pk):
    following = live.page_context("run", run=pk)
    run = get_object_or_404(RotationRun.objects.select_related("secret"), pk=pk)
    context = {"run": run, "steps": run.steps.all(), "live_url": following["live_url"]}
    return render(request, "rotation/run_detail.html", context)


@require_groups(SECURITY_TEAM)
@require_http_methods(["GET", "POST"])
def rotate_now(request, pk):
    secret = get_object_or_404(Secret.objects.select_related("rotation_policy"), pk=pk)
    form = RotateNowForm(request.POST if request.method == "POST" else None)
    refusal = None
    try:
        strategy = check_rotatable(secret)
    except RotationRefused as exc:
        strategy, refusal = None, str(exc)
    if request.method == "POST" and refusal is None and form.is_valid():
        try:
            run = do_rotate_now(
                secret.pk, actor=request.user, code=form.cleaned_data["otp_code"], request=request
            )
        except StepUpFailed as exc:
            form.add_error("otp_code", exc)
        except RotationRefused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Rotation of {secret.display_name} started; its steps show below.")
            return redirect(run)
    status = 400 if request.method == "POST" and (refusal or form.errors) else 200
    context = {
        "secret": secret,
        "form": form,
        "strategy": strategy,
        "refusal": refusal,
        "hook": hook_for(secret),
    }
    return render(request, "rotation/rotate_now.html", context, status=status)


def _set_hook(request, form, owner) -> bool:
    """Save the valid form's hook on `owner` (a secret or a policy); a refused code or hook
    becomes the form's error."""
    data = form.cleaned_data
    try:
        do_set_hook(owner, actor=request.user, url=data["url"], key=data["key"], code=data["otp_code"],
                    request=request)  # fmt: skip
    except StepUpFailed as exc:
        form.add_error("otp_code", exc)
    except ValidationError as exc:
        form.add_error(None, exc)
    else:
        return True
    return False


@require_groups(SECURITY_TEAM)
@require_http_methods(["GET", "POST"])
def hook_edit(request, pk):
    secret = get_object_or_404(Secret.objects.select_related("rotation_policy"), pk=pk)
    form = HookForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid() and _set_hook(request, form, secret):
        messages.success(
            request, f"Rotation hook of {secret.display_name} saved (the URL and key stay encrypted)."
        )
        return redirect(secret)
    status = 400 if request.method == "POST" and form.errors else 200
    return render(
        request,
        "rotation/hook_edit.html",
        {"secret": secret, "form": form, "hook": hook_for(secret)},
        status=status,
    )


def _policy_hook_page(request, policy, form, clear_form, status=200):
    context = {
        "policy": policy,
        "form": form,
        "clear_form": clear_form,
        "hook": RotationHook.objects.filter(policy=policy).first(),
        "secrets": policy.secrets.count(),
        "own_hooks": RotationHook.objects.filter(secret__rotation_policy=policy).count(),
    }
    return render(request, "rotation/policy_hook.html", context, status=status)


@require_groups(SECURITY_TEAM)
@require_http_methods(["GET", "POST"])
def policy_hook(request, pk):
    """Set (or replace) the hook every secret of the policy uses unless it has its own."""
    policy = get_object_or_404(RotationPolicy, pk=pk)
    form = HookForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid() and _set_hook(request, form, policy):
        messages.success(
            request, f"Rotation hook of policy {policy.name} saved (the URL and key stay encrypted)."
        )
        return redirect(reverse("rotation:policy_hook", args=[policy.pk]))
    status = 400 if request.method == "POST" and form.errors else 200
    return _policy_hook_page(request, policy, form, ClearHookForm(prefix="clear"), status)


@require_groups(SECURITY_TEAM)
@require_POST
def policy_hook_clear(request, pk):
    policy = get_object_or_404(RotationPolicy, pk=pk)
    form = ClearHookForm(request.POST, prefix="clear")
    if form.is_valid():
        try:
            cleared = do_clear_hook(
                policy, actor=request.user, code=form.cleaned_data["otp_code"], request=request
            )
        except StepUpFailed as exc:
            form.add_error("otp_code", exc)
        else:
            if cleared:
                messages.success(request, f"Rotation hook of policy {policy.name} cleared.")
            else:
                messages.info(request, f"Policy {policy.name} had no rotation hook.")
            return redirect(reverse("rotation:policy_hook", args=[policy.pk]))
    return _policy_hook_page(request, policy, HookForm(), form, status=400)
