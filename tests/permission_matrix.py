"""Every URL × every kind of visitor → the HTTP status the server must answer (first response,
no redirects followed). `tests/accounts/test_permission_matrix.py` walks it; other apps APPEND
lines for their URLs (edit only by adding lines).

Entry: (url_or_callable, {role: status}) or (url_or_callable, {role: status}, "post").
A callable is called inside the test (database available) and returns the URL, so entries can
create the object they need. Roles (run with MFA_REQUIRED=True, as in staging/production):
  anonymous      – not logged in                      (login-required pages: 302 to the login)
  no_device      – logged in, in `developers`, but no confirmed second factor (302 to enrollment)
  developers, security-team, cto, managers – logged in, in that group, session OTP-verified
"""

ALL = ("anonymous", "no_device", "developers", "security-team", "cto", "managers")


def every(status, **overrides):
    """{role: status} for every role, with per-role overrides (use underscores for dashes)."""
    return {role: overrides.get(role.replace("-", "_"), status) for role in ALL}


LOGGED_IN = every(200, anonymous=302, no_device=302)  # any verified member of any group
SECURITY_TEAM_ONLY = every(403, anonymous=302, no_device=302, security_team=200)

URLS = [
    # console
    ("/healthz", every(200)),
    ("/", LOGGED_IN),
    ("/admin/", every(403, anonymous=302, no_device=302)),  # superusers with a verified device only
    # accounts (allauth)
    ("/accounts/login/", every(302, anonymous=200)),
    ("/accounts/logout/", every(200, anonymous=302)),
    ("/accounts/signup/", every(302, anonymous=200)),  # renders "sign-up is closed"
    ("/accounts/password/change/", LOGGED_IN),
    ("/accounts/password/reset/", every(200, no_device=302)),
    # accounts (MFA, members)
    ("/accounts/mfa/", LOGGED_IN),
    ("/accounts/mfa/enroll/", every(302, no_device=200)),  # already enrolled: back to the MFA page
    ("/accounts/mfa/verify/", every(302)),  # nothing pending / already verified: sent on
    ("/accounts/mfa/recovery-codes/", every(405, no_device=302)),  # POST only
    ("/accounts/mfa/recovery-codes/download/", every(405)),  # POST only
    ("/accounts/members/", SECURITY_TEAM_ONLY),
    ("/accounts/members/", every(403, anonymous=302, no_device=302, security_team=400), "post"),  # empty form
]


# inventory (appended by the inventory app)
def _inventory_secret(suffix=""):
    from secrets_admin.inventory.models import Secret

    secret, _ = Secret.objects.get_or_create(backend="vault", path="secret/matrix/key", kind="api_key")
    return f"/inventory/{secret.pk}/{suffix}"


def _inventory_run():
    from secrets_admin.inventory.models import SyncRun

    return f"/inventory/runs/{SyncRun.objects.create(backend='vault', state='succeeded').pk}/"


URLS += [
    ("/inventory/", LOGGED_IN),
    (_inventory_secret, LOGGED_IN),
    (lambda: _inventory_secret("edit/"), SECURITY_TEAM_ONLY),
    (lambda: _inventory_secret("edit/"), every(403, anonymous=302, no_device=302, security_team=400), "post"),
    ("/inventory/register/", SECURITY_TEAM_ONLY),
    ("/inventory/register/", every(403, anonymous=302, no_device=302, security_team=400), "post"),
    ("/inventory/runs/", LOGGED_IN),
    (_inventory_run, LOGGED_IN),
    # POST without a backend: back to the runs page with a message.
    ("/inventory/runs/start/", every(403, anonymous=302, no_device=302, security_team=302), "post"),
]


# audit (appended by the audit app): security-team, cto and managers read the ledger and export it
AUDIT_READERS = every(403, anonymous=302, no_device=302, security_team=200, cto=200, managers=200)


def _audit_entry():
    from django.db import transaction

    from secrets_admin.audit import actions, services

    with transaction.atomic():
        entry = services.record(actions.EXPORTED, actor="matrix", data={"format": "csv", "filter": {}})
    return f"/audit/{entry.sequence}/"


URLS += [
    ("/audit/", AUDIT_READERS),
    ("/audit/", every(405, no_device=302), "post"),  # read-only page
    (_audit_entry, AUDIT_READERS),
    ("/audit/export.csv", AUDIT_READERS),
    ("/audit/export.json", AUDIT_READERS),
]


# accounts: more allauth pages (rendered inside the console layout)
URLS += [
    ("/accounts/email/", LOGGED_IN),
    ("/accounts/reauthenticate/", LOGGED_IN),
    ("/accounts/password/reset/done/", every(200, no_device=302)),
    ("/accounts/mfa/verify/", every(302), "post"),  # no pending login: back to login / sent on
    ("/accounts/mfa/enroll/", every(302, no_device=400), "post"),  # empty form: 400 with errors
    ("/accounts/mfa/remove/", every(405, no_device=302)),  # POST only
    ("/accounts/mfa/remove/", every(400, anonymous=302, no_device=302), "post"),  # empty form
]


# alerts (appended by the alerts app): security-team edits (with a code), cto and managers read
ALERT_READERS = every(403, anonymous=302, no_device=302, security_team=200, cto=200, managers=200)


def _alert_channel(suffix=""):
    from secrets_admin.alerts.models import Channel

    channel, _ = Channel.objects.get_or_create(
        name="Matrix email", defaults={"kind": "email", "config": {"addresses": ["m@candlefish.example"]}}
    )
    return f"/alerts/channels/{channel.pk}/{suffix}"


def _alert():
    from secrets_admin.alerts import events
    from secrets_admin.alerts.services import raise_alert

    return raise_alert(events.TEST, key="matrix", subject="matrix").get_absolute_url()


URLS += [
    ("/alerts/", ALERT_READERS),
    ("/alerts/", every(403, anonymous=302, no_device=302, security_team=405, cto=405, managers=405), "post"),
    (_alert, ALERT_READERS),
    ("/alerts/routing/", SECURITY_TEAM_ONLY),
    ("/alerts/routing/", every(403, anonymous=302, no_device=302, security_team=400), "post"),  # no code
    ("/alerts/channels/new/slack/", SECURITY_TEAM_ONLY),
    ("/alerts/channels/new/slack/", every(403, anonymous=302, no_device=302, security_team=400), "post"),
    (_alert_channel, ALERT_READERS),
    (lambda: _alert_channel("edit/"), SECURITY_TEAM_ONLY),
    (lambda: _alert_channel("edit/"), every(403, anonymous=302, no_device=302, security_team=400), "post"),
    (
        lambda: _alert_channel("test/"),
        every(403, anonymous=302, no_device=302, security_team=405),
    ),  # POST only
    (lambda: _alert_channel("test/"), every(403, anonymous=302, no_device=302, security_team=302), "post"),
]
