from django.contrib import admin
from django.urls import include, path

from console import health, views

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("", views.home, name="home"),
    path("status/backends/", views.backend_status, name="backend_status"),
    path("accounts/", include("secrets_admin.accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("inventory/", include("secrets_admin.inventory.urls")),
    path("audit/", include("secrets_admin.audit.urls")),
    path("alerts/", include("secrets_admin.alerts.urls")),
    path("rotation/leases/", include("secrets_admin.rotation.lease_urls")),
    path("schedule/", include("secrets_admin.schedule.urls")),
    path("rotation/", include("secrets_admin.rotation.urls")),
    path("access/", include("breakglass.urls")),
    path("sealed/", include("secrets_admin.sealed.urls")),
    path("usage/", include("secrets_admin.usage.urls")),
    path("compliance/", include("secrets_admin.compliance.urls")),
    path("admin/", admin.site.urls),
    path("dashboard/", include("secrets_admin.dashboard.urls")),
]

handler400 = "secrets_admin.accounts.errors.bad_request"
handler403 = "secrets_admin.accounts.errors.permission_denied"
handler404 = "secrets_admin.accounts.errors.page_not_found"
handler500 = "secrets_admin.accounts.errors.server_error"
