"""The leases page (`/rotation/leases/`): outstanding database leases with their TTL, orphaned
ones first, and a form to revoke an orphan (one-time code). Security team only."""

import logging

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from secrets_admin.accounts.access import require_groups
from secrets_admin.accounts.stepup import StepUpFailed, StepUpForm
from secrets_admin.backends.advice import advice
from secrets_admin.backends.base import BackendError
from secrets_admin.backends.vault_engines import MAX_LEASE_TTL
from secrets_admin.roles import SECURITY_TEAM
from secrets_admin.rotation.leases import do_revoke_orphaned_lease, outstanding

log = logging.getLogger(__name__)


class RevokeLeaseForm(StepUpForm):
    """Which orphaned lease ("<backend> <lease id>"), and a fresh code."""

    lease = forms.ChoiceField(label="Orphaned lease", widget=forms.Select(attrs={"class": "form-select"}))

    def __init__(self, *args, orphans=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lease"].choices = [
            (f"{backend} {lease.lease_id}", f"{lease.lease_id} ({lease.role}, {backend})")
            for backend, lease in orphans
        ]


@require_groups(SECURITY_TEAM)
@require_http_methods(["GET", "POST"])
def lease_list(request):
    found, problems = outstanding()
    orphans = [(name, lease) for name, leases in found for lease in leases if lease.orphaned]
    form = RevokeLeaseForm(request.POST if request.method == "POST" else None, orphans=orphans)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            backend, lease_id = form.cleaned_data["lease"].split(" ", 1)
            try:
                do_revoke_orphaned_lease(
                    backend, lease_id, actor=request.user, otp=form.cleaned_data["otp_code"], request=request
                )
            except StepUpFailed as exc:
                form.add_error("otp_code", exc)
            except ValidationError as exc:
                form.add_error(None, exc)
            except BackendError as exc:
                log.warning("lease revoke refused: %s", exc)
                form.add_error(None, f"Nothing was revoked. {advice(exc)}")
            else:
                messages.success(request, "Revoked: OpenBao dropped the lease and its login on the target.")
                return redirect("leases:list")
        status = 400
    context = {
        "backends": found,
        "problems": [(name, advice(exc)) for name, exc in problems],
        "orphans": orphans,
        "form": form,
        "max_days": MAX_LEASE_TTL.days,
    }
    return render(request, "rotation/leases.html", context, status=status)
