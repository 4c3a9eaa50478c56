"""Schedule pages. Thin: access check, a form, one service call, render or redirect.

Everyone who may read the inventory reads policies, overrides, links and the calendar; the
security team edits them, each change with a one-time code (DESIGN.md matrix).
"""

from contextlib import contextmanager

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from secrets_admin.accounts.access import require_groups
from secrets_admin.accounts.stepup import StepUpFailed
from secrets_admin.inventory.models import RotationPolicy, Secret
from secrets_admin.roles import CTO, DEVELOPERS, MANAGERS, SECURITY_TEAM
from secrets_admin.schedule import calendar
from secrets_admin.schedule.forms import CodeOnlyForm, LinkForm, OverrideForm, PolicyForm, find_secret
from secrets_admin.schedule.models import PolicySettings, SecretLink, SecretOverride
from secrets_admin.schedule.planner import Plan, link_gap
from secrets_admin.schedule.services.links import do_link, do_unlink
from secrets_admin.schedule.services.overrides import do_remove_override, do_set_override, override_values
from secrets_admin.schedule.services.policies import do_update_policy, policy_values

VIEWERS = (DEVELOPERS, SECURITY_TEAM, CTO, MANAGERS)


@contextmanager
def _refusals_into(form):
    """A refused code goes on the code field, anything else on the field it names or the form
    (the service saved nothing when it raised)."""
    try:
        yield
    except StepUpFailed as exc:
        form.add_error("otp_code", exc)
    except ValidationError as exc:
        if hasattr(exc, "error_dict") and not set(exc.error_dict) <= set(form.fields):
            exc = ValidationError(exc.messages)
        form.add_error(None, exc)


def _posted(request):
    return request.POST if request.method == "POST" else None


def _status(form) -> int:
    return 400 if form.is_bound and form.errors else 200


def _form_values(form) -> dict:
    return {name: value for name, value in form.cleaned_data.items() if name != "otp_code"}


@require_groups(*VIEWERS)
@require_GET
def policy_list(request):
    policies = list(RotationPolicy.objects.all())
    knobs = {k.policy_id: k for k in PolicySettings.objects.all()}
    rows = [(p, knobs.get(p.pk) or PolicySettings.unsaved(p)) for p in policies]
    return render(request, "schedule/policy_list.html", {"rows": rows})


@require_groups(SECURITY_TEAM)
@require_http_methods(["GET", "POST"])
def policy_edit(request, pk):
    policy = get_object_or_404(RotationPolicy, pk=pk)
    form = PolicyForm(_posted(request), initial=policy_values(policy))
    if request.method == "POST" and form.is_valid():
        with _refusals_into(form):
            changes = do_update_policy(
                policy.pk, actor=request.user, otp=form.cleaned_data["otp_code"],
                values=_form_values(form), request=request,
            )  # fmt: skip
            messages.success(request, f"Policy {policy.name} saved." if changes else "Nothing changed.")
            return redirect("schedule:policies")
    return render(
        request, "schedule/policy_form.html", {"policy": policy, "form": form}, status=_status(form)
    )


@require_groups(*VIEWERS)
@require_GET
def override_list(request):
    lookup = request.GET.get("secret", "").strip()
    lookup_error = ""
    if lookup:
        try:
            return redirect("schedule:override_edit", find_secret(lookup).pk)
        except ValidationError as exc:
            lookup_error = exc.messages[0]
    overrides = list(SecretOverride.objects.select_related("secret", "secret__rotation_policy")[:500])
    plan = Plan(secret_ids=[o.secret_id for o in overrides])
    now = timezone.now()
    rows = [(o, plan.slot(o.secret, now)) for o in overrides]
    context = {"rows": rows, "lookup": lookup, "lookup_error": lookup_error}
    return render(request, "schedule/override_list.html", context, status=400 if lookup_error else 200)


@require_groups(SECURITY_TEAM)
@require_http_methods(["GET", "POST"])
def override_edit(request, pk):
    secret = get_object_or_404(Secret.objects.select_related("rotation_policy"), pk=pk)
    override = SecretOverride.objects.filter(secret=secret).first()
    form = OverrideForm(_posted(request), initial=override_values(override))
    if request.method == "POST" and form.is_valid():
        with _refusals_into(form):
            changes = do_set_override(
                secret.pk, actor=request.user, otp=form.cleaned_data["otp_code"],
                values=_form_values(form), request=request,
            )  # fmt: skip
            messages.success(request, "Override saved." if changes else "Nothing changed.")
            return redirect("schedule:overrides")
    context = {"secret": secret, "override": override, "form": form}
    return render(request, "schedule/override_form.html", context, status=_status(form))


@require_groups(SECURITY_TEAM)
@require_http_methods(["GET", "POST"])
def override_remove(request, pk):
    override = get_object_or_404(SecretOverride.objects.select_related("secret"), pk=pk)
    form = CodeOnlyForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        with _refusals_into(form):
            do_remove_override(
                override.pk, actor=request.user, otp=form.cleaned_data["otp_code"], request=request
            )
            messages.success(request, f"{override.secret} follows its policy again.")
            return redirect("schedule:overrides")
    context = {
        "form": form,
        "title": f"Remove the override of {override.secret}",
        "back": "schedule:overrides",
    }
    return render(request, "schedule/confirm.html", context, status=_status(form))


@require_groups(*VIEWERS)
@require_GET
def link_list(request):
    links = SecretLink.objects.select_related("first", "second")[:1000]
    context = {"links": links, "gap_minutes": int(link_gap().total_seconds() // 60)}
    return render(request, "schedule/link_list.html", context)


@require_groups(SECURITY_TEAM)
@require_http_methods(["GET", "POST"])
def link_create(request):
    form = LinkForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        with _refusals_into(form):
            data = form.cleaned_data
            do_link(
                data["first"].pk, data["second"].pk, actor=request.user, otp=data["otp_code"],
                reason=data["reason"], request=request,
            )  # fmt: skip
            messages.success(request, f"Linked {data['first']} and {data['second']}.")
            return redirect("schedule:links")
    return render(request, "schedule/link_form.html", {"form": form}, status=_status(form))


@require_groups(SECURITY_TEAM)
@require_http_methods(["GET", "POST"])
def link_remove(request, pk):
    link = get_object_or_404(SecretLink.objects.select_related("first", "second"), pk=pk)
    form = CodeOnlyForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        with _refusals_into(form):
            do_unlink(link.pk, actor=request.user, otp=form.cleaned_data["otp_code"], request=request)
            messages.success(request, f"Unlinked {link.first} and {link.second}.")
            return redirect("schedule:links")
    context = {"form": form, "title": f"Unlink {link.first} and {link.second}", "back": "schedule:links"}
    return render(request, "schedule/confirm.html", context, status=_status(form))


@require_groups(*VIEWERS)
@require_GET
def calendar_page(request):
    only_collisions = request.GET.get("collisions") == "1"
    plan = calendar.build(only_collisions=only_collisions)
    context = {
        "plan": plan,
        "only_collisions": only_collisions,
        "gap_minutes": int(plan.gap.total_seconds() // 60),
    }
    return render(request, "schedule/calendar.html", context)
