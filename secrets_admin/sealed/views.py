"""The Sealed Secrets page: certificates, manifests by certificate status, the re-seal campaign.

Everyone in a console group may read it (inventory metadata); starting a campaign and confirming
a key backup are for the security team, each with a one-time code.
"""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from secrets_admin.accounts.access import require_groups
from secrets_admin.accounts.stepup import StepUpFailed
from secrets_admin.backends import sealed_certs
from secrets_admin.backends.base import BackendError
from secrets_admin.roles import CTO, DEVELOPERS, MANAGERS, SECURITY_TEAM
from secrets_admin.sealed import services
from secrets_admin.sealed.forms import BackupForm, CampaignForm
from secrets_admin.sealed.models import ResealCampaign, SealingKey

VIEWERS = (DEVELOPERS, SECURITY_TEAM, CTO, MANAGERS)
# Worst first: what needs a re-seal soonest leads the page.
STATUS_ORDER = ("expired", "expiring", "old", "unknown", "current")
STATUS_WORDS = {
    "expired": "Sealed for an expired certificate",
    "expiring": "Sealed for a certificate that expires soon",
    "old": "Sealed for an older certificate",
    "unknown": "Certificate unknown",
    "current": "Sealed for the current certificate",
}


def _certificates(backup_form=None, backup_key=None):
    """Newest first, each with its SealingKey row and (for the security team) a code form."""
    try:
        certs = sealed_certs.certificates()
    except BackendError as exc:
        return [], str(exc)
    keys = {
        k.fingerprint: k for k in SealingKey.objects.filter(fingerprint__in=[c.fingerprint for c in certs])
    }
    rows = []
    for cert in reversed(certs):
        key = keys.get(cert.fingerprint)
        form = None
        if key is not None and key.backed_up_at is None:
            form = (
                backup_form if backup_key and backup_key.pk == key.pk else BackupForm(prefix=f"key{key.pk}")
            )
        rows.append({"cert": cert, "status": sealed_certs.status_of(cert), "key": key, "form": form})
    return rows, ""


def _render(request, *, campaign_form=None, backup_form=None, backup_key=None, status=200):
    groups = {status: [] for status in STATUS_ORDER}
    for secret in services.sealed_secrets().order_by("path", "id"):
        groups.setdefault((secret.details or {}).get("certificate_status") or "unknown", []).append(secret)
    certificates, certificate_error = _certificates(backup_form, backup_key)
    context = {
        "groups": [(s, STATUS_WORDS.get(s, s), groups[s]) for s in groups if groups[s]],
        "certificates": certificates,
        "certificate_error": certificate_error,
        "backends": services.sealed_backends(),
        "candidates": services.campaign_candidates().count(),
        "campaigns": ResealCampaign.objects.all()[:10],
        "campaign_form": campaign_form or CampaignForm(),
    }
    return render(request, "sealed/overview.html", context, status=status)


@require_groups(*VIEWERS)
@require_GET
def overview(request):
    return _render(request)


@require_groups(SECURITY_TEAM)
@require_POST
def start_campaign(request):
    form = CampaignForm(request.POST)
    if form.is_valid():
        try:
            campaign = services.do_start_reseal_campaign(
                actor=request.user, code=form.cleaned_data["otp_code"], request=request
            )
        except StepUpFailed as exc:
            form.add_error("otp_code", exc)
        else:
            messages.success(
                request, f"Re-seal campaign #{campaign.pk} started for {campaign.wanted} manifest(s)."
            )
            return redirect("sealed:overview")
    return _render(request, campaign_form=form, status=400)


@require_groups(SECURITY_TEAM)
@require_POST
def confirm_backup(request, pk):
    key = get_object_or_404(SealingKey, pk=pk)
    form = BackupForm(request.POST, prefix=f"key{key.pk}")
    if form.is_valid():
        try:
            services.do_confirm_key_backup(
                key.pk, actor=request.user, code=form.cleaned_data["otp_code"], request=request
            )
        except StepUpFailed as exc:
            form.add_error("otp_code", exc)
        else:
            messages.success(request, f"Noted: the sealing key {key.fingerprint} is backed up.")
            return redirect("sealed:overview")
    return _render(request, backup_form=form, backup_key=key, status=400)
