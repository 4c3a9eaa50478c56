"""Django admin: superusers with a verified second factor only, logging in through allauth, and
read-only. People, groups, email addresses, lockouts and MFA devices change only through the
console's services (a one-time code and an audit entry each), so the admin offers no back door:
User, Group, EmailAddress and the axes models are unregistered, the device models are read-only,
and the admin's own password form hands over to the audited allauth one.
"""

from urllib.parse import urlencode

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django_otp.admin import OTPAdminSite

from secrets_admin.accounts.models import AuthenticatorDevice, RecoveryCodeDevice, UsedCode

REFUSED = "The admin is for superusers with a verified second factor."


def _to_login(next_url):
    return HttpResponseRedirect(f"{reverse('account_login')}?{urlencode({'next': next_url})}")


class ConsoleAdminSite(OTPAdminSite):
    """OTPAdminSite (is_verified() required) narrowed to active superusers."""

    def has_permission(self, request):
        return super().has_permission(request) and request.user.is_superuser

    def admin_view(self, view, cacheable=False):
        inner = super().admin_view(view, cacheable)

        def gated(request, *args, **kwargs):
            if not request.user.is_authenticated:
                # Straight to the console's login (the admin's own login form is never used).
                return _to_login(
                    request.get_full_path() if request.method == "GET" else reverse("admin:index")
                )
            if not self.has_permission(request):
                raise PermissionDenied(REFUSED)
            return inner(request, *args, **kwargs)

        return gated

    def login(self, request, extra_context=None):
        next_url = request.GET.get("next", "")
        if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}) or not next_url:
            next_url = reverse("admin:index")
        if not request.user.is_authenticated:
            return _to_login(next_url)
        if self.has_permission(request):
            return HttpResponseRedirect(next_url)
        raise PermissionDenied(REFUSED)

    def password_change(self, request, extra_context=None):
        # Django's admin form would change the password without the audit entry allauth's makes.
        return HttpResponseRedirect(reverse("account_change_password"))

    def password_change_done(self, request, extra_context=None):
        return HttpResponseRedirect(reverse("account_change_password"))


def install():
    """Swap the default admin site's class and take the account models out of it (called from
    AccountsConfig.ready, after every app's admin module registered its models)."""
    from allauth.account.models import EmailAddress
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django.contrib.auth.models import Group, User

    admin.site.__class__ = ConsoleAdminSite
    for model in (User, Group, EmailAddress, AccessAttempt, AccessLog, AccessFailureLog):
        if admin.site.is_registered(model):
            admin.site.unregister(model)


class ReadOnlyAdmin(admin.ModelAdmin):
    """A window, not a door: no add, change, delete or bulk action."""

    actions = None

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuthenticatorDevice)
class AuthenticatorDeviceAdmin(ReadOnlyAdmin):
    list_display = ("user", "name", "confirmed", "created_at", "last_used_at", "throttling_failure_count")
    exclude = ("encrypted_key",)


@admin.register(RecoveryCodeDevice)
class RecoveryCodeDeviceAdmin(ReadOnlyAdmin):
    list_display = ("user", "name", "confirmed", "throttling_failure_count")


@admin.register(UsedCode)
class UsedCodeAdmin(ReadOnlyAdmin):
    list_display = ("device", "step", "purpose", "used_at")
