"""Rotation pages: the run list, a run's step log (both live), and "Rotate now" (security team,
one-time code bound to the secret). Thin: access check, one query or one service call."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from secrets_admin.accounts.access import require_groups
from secrets_admin.accounts.stepup import StepUpFailed
from secrets_admin.inventory.models import Secret
from secrets_admin.inventory.views import VIEWERS
from secrets_admin.roles import SECURITY_TEAM
from secrets_admin.rotation import live
from secrets_admin.rotation.forms import RotateNowForm
from secrets_admin.rotation.hooks import hook_for
from secrets_admin.rotation.models import RotationRun
from secrets_admin.rotation.services import RotationRefused, check_rotatable, do_rotate_now


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
