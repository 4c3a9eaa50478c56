"""Audit for authentication events that happen inside Django, allauth and axes.

These are the only signal-based audit entries: the login, logout and password flows belong to
the libraries, so their signals are the hook. Each entry is written in its own transaction.
"""

from allauth.account.signals import password_changed, password_reset
from axes.signals import user_locked_out
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import transaction
from django.dispatch import receiver
from django_otp import DEVICE_ID_SESSION_KEY

from secrets_admin.audit.services import record


def _audit(action, *, actor, data=None, request=None):
    with transaction.atomic():
        record(action, actor=actor, data=data or {}, request=request)


def _attempted_name(credentials) -> str:
    for key in ("username", "email", "login"):
        if credentials.get(key):
            return str(credentials[key])[:150]
    return ""


@receiver(user_login_failed, dispatch_uid="accounts.audit_login_failed")
def audit_login_failed(sender, credentials, request=None, **kwargs):
    _audit(
        "auth.login.failed",
        actor=AnonymousUser(),
        data={"login": _attempted_name(credentials or {})},
        request=request,
    )


@receiver(user_locked_out, dispatch_uid="accounts.audit_lockout")
def audit_lockout(sender, request=None, username=None, ip_address=None, **kwargs):
    _audit(
        "auth.lockout",
        actor=AnonymousUser(),
        data={"login": username or "", "ip": ip_address or ""},
        request=request,
    )


@receiver(user_logged_in, dispatch_uid="accounts.audit_login")
def audit_login(sender, request, user, **kwargs):
    verified = bool(request is not None and request.session.get(DEVICE_ID_SESSION_KEY))
    _audit("auth.login.succeeded", actor=user, data={"second_factor": verified}, request=request)


@receiver(user_logged_out, dispatch_uid="accounts.audit_logout")
def audit_logout(sender, request, user, **kwargs):
    if user is not None:
        _audit("auth.logout", actor=user, request=request)


@receiver(password_changed, dispatch_uid="accounts.audit_password_changed")
def audit_password_changed(sender, request, user, **kwargs):
    _audit("auth.password.changed", actor=user, request=request)


@receiver(password_reset, dispatch_uid="accounts.audit_password_reset")
def audit_password_reset(sender, request, user, **kwargs):
    _audit("auth.password.reset", actor=user, request=request)
