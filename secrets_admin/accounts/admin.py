"""Django admin: superusers with a verified second factor only, logging in through allauth."""

from urllib.parse import urlencode

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import reverse
from django_otp.admin import OTPAdminSite

from secrets_admin.accounts.models import AuthenticatorDevice, RecoveryCodeDevice, UsedCode


class ConsoleAdminSite(OTPAdminSite):
    """OTPAdminSite (is_verified() required) narrowed to active superusers."""

    def has_permission(self, request):
        return super().has_permission(request) and request.user.is_superuser

    def admin_view(self, view, cacheable=False):
        inner = super().admin_view(view, cacheable)

        def gated(request, *args, **kwargs):
            if request.user.is_authenticated and not self.has_permission(request):
                raise PermissionDenied("The admin is for superusers with a verified second factor.")
            return inner(request, *args, **kwargs)

        return gated

    def login(self, request, extra_context=None):
        if request.user.is_authenticated:
            raise PermissionDenied("The admin is for superusers with a verified second factor.")
        next_url = request.GET.get("next") or reverse("admin:index")
        return HttpResponseRedirect(f"{reverse('account_login')}?{urlencode({'next': next_url})}")


def install():
    """Swap the default admin site's class (called from AccountsConfig.ready)."""
    admin.site.__class__ = ConsoleAdminSite


@admin.register(AuthenticatorDevice)
class AuthenticatorDeviceAdmin(admin.ModelAdmin):
    list_display = ("user", "name", "confirmed", "created_at", "last_used_at", "throttling_failure_count")
    exclude = ("encrypted_key",)
    readonly_fields = ("last_t", "drift", "throttling_failure_timestamp", "throttling_failure_count")


@admin.register(RecoveryCodeDevice)
class RecoveryCodeDeviceAdmin(admin.ModelAdmin):
    list_display = ("user", "name", "confirmed", "throttling_failure_count")


@admin.register(UsedCode)
class UsedCodeAdmin(admin.ModelAdmin):
    list_display = ("device", "step", "purpose", "used_at")
    readonly_fields = ("device", "step", "purpose", "used_at")
