"""MFA pages: enroll, the second login step, recovery codes, removing an authenticator.

Every code form looks and behaves the same (`stepup.OneTimeCodeInput`): the code box last, above
the submit button, and a refused code is not shown again. Where a recovery code is accepted, a
link switches to a form with a text keyboard (`?use=recovery`).
"""

import segno
from allauth.account.utils import get_login_redirect_url
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_POST
from django_otp import DEVICE_ID_SESSION_KEY, user_has_device
from django_otp import login as otp_login

from console.no_store import no_store
from secrets_admin.accounts import services
from secrets_admin.accounts.forms import (
    EnrollForm,
    LoginCodeForm,
    RecoveryCodeForm,
    RecoveryCodesDownloadForm,
    RegenerateRecoveryCodesForm,
    RemoveAuthenticatorForm,
)
from secrets_admin.accounts.models import RecoveryCodeDevice
from secrets_admin.accounts.stepup import StepUpFailed

# At or below this many unused recovery codes, the pages say to make new ones.
FEW_RECOVERY_CODES = 2


def _safe_next(request, fallback="/"):
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return fallback


def _form_error(form, exc: ValidationError, field=None):
    for message in exc.messages:
        form.add_error(field, message)


def _with_recovery(request) -> bool:
    return (request.POST.get("use") or request.GET.get("use")) == "recovery"


def _recovery_left(user) -> int | None:
    """Unused recovery codes, or None when the user never had any."""
    recovery = RecoveryCodeDevice.objects.filter(user=user).first()
    return recovery.remaining() if recovery else None


def _warn_if_few_recovery_codes(request, left: int | None):
    if left is not None and left <= FEW_RECOVERY_CODES:
        messages.warning(
            request,
            f"Only {left} recovery code{'s' if left != 1 else ''} left. "
            "Generate new ones on the Two-factor page before you run out.",
        )


def _mfa_page(request, *, regenerate_form=None, status=200):
    left = _recovery_left(request.user)
    return render(
        request,
        "accounts/mfa_index.html",
        {
            "authenticator": services.confirmed_authenticator(request.user),
            "recovery_left": left or 0,
            "few_recovery_codes": left is not None and left <= FEW_RECOVERY_CODES,
            "regenerate_form": regenerate_form or RegenerateRecoveryCodesForm(),
        },
        status=status,
    )


@login_required
def mfa_index(request):
    return _mfa_page(request)


@no_store  # shows the new key, then the recovery codes
@login_required
def enroll(request):
    """Show a fresh seed (QR + text) and activate it with a code from the app."""
    if services.confirmed_authenticator(request.user):
        messages.info(request, "Your authenticator app is already set up.")
        return redirect("accounts:mfa")
    if user_has_device(request.user, confirmed=True) and not request.user.is_verified():
        return redirect(f"{reverse('accounts:mfa_verify')}?{urlencode({'next': request.get_full_path()})}")
    device = services.pending_authenticator(request.user)
    form = EnrollForm(request.POST if request.method == "POST" else None, initial={"device_id": device.pk})
    if request.method == "POST" and not form.is_valid():
        services.record_invalid_form(request.user, purpose="enroll", request=request)
    elif request.method == "POST":
        try:
            codes = services.do_confirm_authenticator(
                actor=request.user,
                device_id=form.cleaned_data["device_id"],
                code=form.cleaned_data["code"],
                request=request,
            )
        except ValidationError as exc:
            _form_error(form, exc, "code")
        else:
            messages.success(request, "Your authenticator app is set up. Save your recovery codes now.")
            return _show_recovery_codes(request, codes, next_url=_safe_next(request, ""))
    uri = device.config_url
    key = device.base32_key
    return render(
        request,
        "accounts/enroll.html",
        {
            "form": form,
            "qr_data_uri": segno.make(uri, error="m").svg_data_uri(scale=5, dark="#000", light="#fff"),
            "key_groups": " ".join(key[i : i + 4] for i in range(0, len(key), 4)),
            "otpauth_uri": uri,
            "device": device,
            "next": _safe_next(request, ""),
            "mfa_required": settings.MFA_REQUIRED,
        },
        status=400 if form.errors else 200,
    )


def _show_recovery_codes(request, codes, next_url=""):
    download = RecoveryCodesDownloadForm(initial={"codes": " ".join(codes)})
    return render(
        request, "accounts/recovery_codes.html", {"codes": codes, "download_form": download, "next": next_url}
    )


@no_store
def verify(request):
    """Second login step. Two modes: finishing an allauth login held by `SecondFactorStage`,
    or verifying an already logged-in session (a device added elsewhere, or a session from
    before the user enrolled)."""
    if request.user.is_authenticated:
        stage, user = None, request.user
        if request.user.is_verified() or not user_has_device(user, confirmed=True):
            return redirect(_safe_next(request))
    else:
        # Imported here: importing allauth's stages while URLconfs load hits an import cycle.
        from allauth.account.stages import LoginStageController

        from secrets_admin.accounts.adapters import SECOND_FACTOR_STAGE

        stage = LoginStageController.enter(request, SECOND_FACTOR_STAGE)
        if stage is None:
            return redirect("account_login")
        user = stage.login.user
    form_class = RecoveryCodeForm if _with_recovery(request) else LoginCodeForm
    form = form_class(request.POST if request.method == "POST" else None)
    if request.method == "POST" and not form.is_valid():
        services.record_invalid_form(user, purpose="login", request=request)
    elif request.method == "POST":
        try:
            device = services.do_verify_login(user=user, code=form.cleaned_data["code"], request=request)
        except ValidationError as exc:
            _form_error(form, exc, "code")
        else:
            if isinstance(device, RecoveryCodeDevice):
                left = device.remaining()
                messages.warning(request, f"Recovery code used; {left} left.")
                _warn_if_few_recovery_codes(request, left)
            if stage is not None:
                request.session[DEVICE_ID_SESSION_KEY] = device.persistent_id
                return stage.exit()
            otp_login(request, device)
            return redirect(_safe_next(request, get_login_redirect_url(request)))
    return render(
        request,
        "accounts/verify.html",
        {"form": form, "next": _safe_next(request, ""), "with_recovery": form_class is RecoveryCodeForm},
        status=400 if form.errors else 200,
    )


@no_store  # shows the new recovery codes
@require_POST
@login_required
def recovery_regenerate(request):
    form = RegenerateRecoveryCodesForm(request.POST)
    if not form.is_valid():
        services.record_invalid_form(request.user, purpose="mfa.recovery_codes.regenerate", request=request)
    else:
        try:
            codes = services.do_regenerate_recovery_codes(
                actor=request.user, otp_code=form.cleaned_data["otp_code"], request=request
            )
        except StepUpFailed as exc:
            _form_error(form, exc, "otp_code")
        else:
            messages.success(request, "New recovery codes: the old ones no longer work.")
            return _show_recovery_codes(request, codes)
    return _mfa_page(request, regenerate_form=form, status=400)


@login_required
def remove_authenticator(request):
    """Drop the authenticator (lost or new phone); the user enrolls a new one next. GET asks for
    confirmation (what happens, and a code); POST removes."""
    if not services.confirmed_authenticator(request.user):
        messages.info(request, "There is no authenticator app to remove.")
        return redirect("accounts:mfa")
    form_class = RecoveryCodeForm if _with_recovery(request) else RemoveAuthenticatorForm
    form = form_class(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 400
        if not form.is_valid():
            services.record_invalid_form(request.user, purpose="mfa.device.remove", request=request)
        else:
            try:
                services.do_remove_authenticator(
                    actor=request.user, code=form.cleaned_data["code"], request=request
                )
            except ValidationError as exc:
                _form_error(form, exc, "code")
            else:
                recovery = RecoveryCodeDevice.objects.filter(user=request.user).first()
                if recovery is not None:
                    otp_login(request, recovery)  # the session stays verified through the remaining device
                else:
                    request.session.pop(DEVICE_ID_SESSION_KEY, None)
                messages.info(request, "Authenticator removed. Set up the new one now.")
                return redirect("accounts:mfa_enroll")
    return render(
        request,
        "accounts/remove.html",
        {"form": form, "with_recovery": form_class is RecoveryCodeForm},
        status=status,
    )


@no_store
@require_POST
@login_required
def recovery_download(request):
    """Echo the user's own *unused* recovery codes back as a text file; nothing is stored."""
    form = RecoveryCodesDownloadForm(request.POST)
    if not form.is_valid() or not services.unused_recovery_codes(request.user, form.cleaned_data["codes"]):
        services.record_refused_download(request.user, request=request)
        return HttpResponseBadRequest(
            "These are not your current recovery codes. Generate new ones on the MFA page.",
            content_type="text/plain; charset=utf-8",
        )
    codes = "\n".join(form.cleaned_data["codes"])
    body = f"Candlefish recovery codes for {request.user.get_username()} (each works once):\n\n{codes}\n"
    response = HttpResponse(body, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="candlefish-recovery-codes.txt"'
    return response
