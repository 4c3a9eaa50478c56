"""Alerts pages. Thin: access check, a form, one service call, render or redirect.

The security team edits channels and routing (with a one-time code) and sends test alerts;
the CTO and managers read. Webhook URLs and routing keys are never rendered, only their hints.
"""

from contextlib import contextmanager

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from secrets_admin.accounts.access import require_groups
from secrets_admin.accounts.stepup import StepUpFailed
from secrets_admin.alerts.events import EVENTS, Severity
from secrets_admin.alerts.forms import ChannelForm, RoutingForm
from secrets_admin.alerts.models import Alert, Channel, Delivery, Route
from secrets_admin.alerts.services.channels import (
    do_create_channel,
    do_send_test,
    do_update_channel,
    do_update_routing,
)
from secrets_admin.alerts.transports import TRANSPORTS, kind_choices
from secrets_admin.roles import CTO, MANAGERS, SECURITY_TEAM

READERS = (SECURITY_TEAM, CTO, MANAGERS)
RECENT = 50


@contextmanager
def _refusals_into(form):
    """A refused code goes on the code field, anything else on the form (nothing was saved)."""
    try:
        yield
    except StepUpFailed as exc:
        form.add_error("otp_code", exc)
    except ValidationError as exc:
        form.add_error(None, exc)


def _posted(request):
    """The POST data, also when empty (an empty form is still a submitted one: 400, not 200)."""
    return request.POST if request.method == "POST" else None


def _status(form) -> int:
    return 400 if form.is_bound and form.errors else 200


def _routing_table(channels):
    routes = set(Route.objects.values_list("channel_id", "severity"))
    return [(severity, [(c, (c.pk, severity) in routes) for c in channels]) for severity in Severity.values]


@require_groups(*READERS)
@require_GET
def index(request):
    channels = list(Channel.objects.all())
    context = {
        "channels": channels,
        "routing": _routing_table(channels),
        "open_alerts": Alert.objects.filter(state=Alert.State.OPEN)[:RECENT],
        "recent_alerts": Alert.objects.filter(state=Alert.State.RESOLVED)[:RECENT],
        "deliveries": Delivery.objects.select_related("alert", "channel")[:RECENT],
        "kinds": kind_choices(),
        "events": EVENTS.values(),
    }
    return render(request, "alerts/index.html", context)


@require_groups(SECURITY_TEAM)
@require_http_methods(["GET", "POST"])
def channel_create(request, kind):
    if kind not in TRANSPORTS:
        raise Http404("No such channel kind.")
    form = ChannelForm(_posted(request), kind=kind)
    if request.method == "POST" and form.is_valid():
        with _refusals_into(form):
            channel = do_create_channel(
                actor=request.user,
                otp=form.cleaned_data["otp_code"],
                kind=kind,
                name=form.cleaned_data["name"],
                config=form.config(),
                secret=form.cleaned_data.get("secret", ""),
                request=request,
            )
            messages.success(request, f"Channel “{channel.name}” added. Send it a test alert to check it.")
            return redirect(channel)
    label = dict(kind_choices())[kind]
    return render(request, "alerts/channel_form.html", {"form": form, "label": label}, status=_status(form))


@require_groups(*READERS)
@require_GET
def channel_detail(request, pk):
    channel = get_object_or_404(Channel, pk=pk)
    context = {
        "channel": channel,
        "severities": sorted(channel.routes.values_list("severity", flat=True), key=Severity.values.index),
        "deliveries": channel.deliveries.select_related("alert")[:RECENT],
    }
    return render(request, "alerts/channel_detail.html", context)


@require_groups(SECURITY_TEAM)
@require_http_methods(["GET", "POST"])
def channel_edit(request, pk):
    channel = get_object_or_404(Channel, pk=pk)
    form = ChannelForm(
        _posted(request), kind=channel.kind, channel=channel, initial=ChannelForm.initial_for(channel)
    )
    if request.method == "POST" and form.is_valid():
        with _refusals_into(form):
            do_update_channel(
                channel.pk,
                actor=request.user,
                otp=form.cleaned_data["otp_code"],
                name=form.cleaned_data["name"],
                config=form.config() if channel.kind == "email" else channel.config,
                secret=form.cleaned_data.get("secret") or None,
                enabled=form.cleaned_data["enabled"],
                request=request,
            )
            messages.success(request, "Saved.")
            return redirect(channel)
    context = {"form": form, "channel": channel, "label": channel.get_kind_display()}
    return render(request, "alerts/channel_form.html", context, status=_status(form))


@require_groups(SECURITY_TEAM)
@require_POST
def channel_test(request, pk):
    channel = get_object_or_404(Channel, pk=pk)
    do_send_test(channel.pk, actor=request.user, request=request)
    messages.info(request, "Test alert queued; its delivery is listed below (reload to see it finish).")
    return redirect(channel)


@require_groups(SECURITY_TEAM)
@require_http_methods(["GET", "POST"])
def routing(request):
    channels = list(Channel.objects.all())
    current = set(Route.objects.values_list("channel_id", "severity"))
    form = RoutingForm(_posted(request), channels=channels, current=current)
    if request.method == "POST" and form.is_valid():
        with _refusals_into(form):
            diff = do_update_routing(
                actor=request.user, otp=form.cleaned_data["otp_code"], routes=form.routes(), request=request
            )
            changed = len(diff["added"]) + len(diff["removed"])
            messages.success(request, f"Routing saved ({changed} change{'s' if changed != 1 else ''}).")
            return redirect("alerts:index")
    context = {"form": form, "severities": Severity.values}
    return render(request, "alerts/routing.html", context, status=_status(form))


@require_groups(*READERS)
@require_GET
def alert_detail(request, pk):
    alert = get_object_or_404(Alert, pk=pk)
    context = {
        "alert": alert,
        "deliveries": alert.deliveries.select_related("channel").order_by("created_at", "id"),
    }
    return render(request, "alerts/alert_detail.html", context)
