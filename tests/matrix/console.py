"""The console's own pages: health and readiness, the overview, and the admin (superusers with
a verified second factor only)."""

from tests.matrix.roles import LOGGED_IN, every

URLS = [
    ("/healthz", every(200)),
    ("/", LOGGED_IN),
    ("/admin/", every(403, anonymous=302, no_device=302)),  # superusers with a verified device only
    ("/readyz", every(200)),  # open to probes: ready or not and failing names; details for the security team
    ("/status/backends/", LOGGED_IN),
]

# admin: superusers with a verified second factor only (no group gets in; read-only for them,
# see tests/accounts/test_admin.py). Every page of every registered model, from the registry.
ADMIN = every(403, anonymous=302, no_device=302)


def _admin_urls():
    from django.contrib import admin

    site = ["login/", "logout/", "password_change/", "password_change/done/", "autocomplete/"]
    site += ["jsi18n/", "r/1/1/", "no-such-page/"]
    urls = [f"/admin/{page}" for page in site]
    for app_label in sorted({model._meta.app_label for model in admin.site._registry}):
        urls.append(f"/admin/{app_label}/")
    for model in admin.site._registry:
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        urls += [
            base,
            f"{base}add/",
            f"{base}1/",
            f"{base}1/change/",
            f"{base}1/history/",
            f"{base}1/delete/",
        ]
    return urls


URLS += [(url, ADMIN) for url in _admin_urls()]
