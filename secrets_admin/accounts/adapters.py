"""allauth integration: closed sign-up, and a login stage that asks for a one-time code.

The password step is allauth's; when the user has a confirmed django-otp device, the
`SecondFactorStage` holds the login (the user is NOT logged in yet) and sends the browser to
`accounts:mfa_verify`. Only a valid code finishes the login, with the device recorded in the
session so `request.user.is_verified()` is true afterwards.
"""

import allauth.account.internal  # noqa: F401  (load order: importing stages first hits a cycle)
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.stages import LoginStage
from allauth.core.internal.httpkit import headed_redirect_response
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django_otp import user_has_device

from console.client_ip import client_ip

SECOND_FACTOR_STAGE = "candlefish_second_factor"


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        return bool(getattr(settings, "SIGNUP_OPEN", False))

    def send_mail(self, template_prefix, email, context):
        """Every email names the console from settings (allauth would greet with the request's host
        name) and knows whether sign-up is open (no link to a closed sign-up page)."""
        context = {**context, "site_name": settings.SITE_NAME, "signup_open": self.is_open_for_signup(None)}
        return super().send_mail(template_prefix, email, context)

    def get_client_ip(self, request) -> str:
        """allauth's rate limits count per client the way the ledger and axes do (TRUSTED_PROXIES)."""
        ip = client_ip(request)
        if not ip:
            raise PermissionDenied("Unable to determine the client's IP address.")
        return ip

    def get_login_stages(self) -> list[str]:
        return [*super().get_login_stages(), "secrets_admin.accounts.adapters.SecondFactorStage"]


class SecondFactorStage(LoginStage):
    key = SECOND_FACTOR_STAGE
    urlname = "accounts:mfa_verify"

    def handle(self):
        user = self.login.user
        if user is not None and user_has_device(user, confirmed=True):
            return headed_redirect_response(self.urlname), True
        return None, True
