"""Second-factor gate for every page, and the end-of-request write of step-up failures.

- A user with a confirmed device whose session is not OTP-verified goes to the code page.
- With settings.MFA_REQUIRED, a user without a confirmed device goes to enrollment.
Exempt: logging out, the MFA pages themselves, static files and the health probes.
Place after django_otp's OTPMiddleware.
"""

from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpResponseRedirect
from django.urls import reverse
from django_otp import user_has_device

from secrets_admin.accounts import stepup

_EXEMPT_NAMES = (
    "account_logout",
    "accounts:mfa_verify",
    "accounts:mfa_enroll",
    "accounts:recovery_download",
    "healthz",
    "readyz",
)


class SecondFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = stepup.begin_request(request)
        try:
            return self._gate(request) or self.get_response(request)
        finally:
            stepup.end_request(token)

    @staticmethod
    def _exempt(path: str) -> bool:
        static = "/" + settings.STATIC_URL.lstrip("/")
        return path.startswith(static) or path in {reverse(name) for name in _EXEMPT_NAMES}

    def _gate(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or self._exempt(request.path):
            return None
        if user_has_device(user, confirmed=True):
            if user.is_verified():
                return None
            target = "accounts:mfa_verify"
        elif settings.MFA_REQUIRED:
            target = "accounts:mfa_enroll"
        else:
            return None
        query = urlencode({"next": request.get_full_path()}) if request.method == "GET" else ""
        return HttpResponseRedirect(reverse(target) + (f"?{query}" if query else ""))
