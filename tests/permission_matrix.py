"""Every URL × every kind of visitor → what the server must answer (first response, no redirects
followed). `tests/accounts/test_permission_matrix.py` walks it, and fails on any URL pattern of the
URLconf that no entry here reaches and that `UNLISTED` does not excuse. Other apps APPEND lines
for their URLs (edit only by adding lines).

Entry: (url_or_callable, {role: expected}) or (url_or_callable, {role: expected}, "post").
A callable is called inside the test (database available) and returns the URL, so entries can
create the object they need. `expected` for a role is either
  - an HTTP status (int): 200, 400, 403, 405 ...; or
  - a path (str): a 302 redirect there (`LOGIN`, `CODE`, `ENROLL` or any page, e.g. "/").
    A path with "?" must match the redirect's path and query exactly; without, the path only.
    A path starting with "." is relative to the URL asked for ("../" from /things/3/test/ is
    /things/3/), for entries whose URL comes from a callable.
A bare 302 is allowed only where the target is implied: anonymous → LOGIN, no_device → ENROLL,
unverified → CODE. Every other redirect names where it goes.

Roles (run with MFA_REQUIRED=True, as in staging/production):
  anonymous      – not logged in                      (login-required pages: 302 to LOGIN)
  no_device      – logged in, in `developers`, but no confirmed second factor (302 to ENROLL)
  developers, security-team, cto, managers – logged in, in that group, session OTP-verified
  unverified     – optional: logged in, in `developers`, with an authenticator, session not yet
                   verified (302 to CODE). Omitted, it is derived from no_device: ENROLL becomes
                   CODE, anything else stays the same.
"""

LOGIN = "/accounts/login/"
CODE = "/accounts/mfa/verify/"
ENROLL = "/accounts/mfa/enroll/"

ALL = ("anonymous", "no_device", "developers", "security-team", "cto", "managers")
OPTIONAL = ("unverified",)
IMPLIED_REDIRECTS = {"anonymous": LOGIN, "no_device": ENROLL, "unverified": CODE}


def every(status, **overrides):
    """{role: status} for every role, with per-role overrides (use underscores for dashes)."""
    expected = {role: overrides.get(role.replace("-", "_"), status) for role in ALL}
    expected.update({role: overrides[role] for role in OPTIONAL if role in overrides})
    return expected


LOGGED_IN = every(200, anonymous=302, no_device=302)  # any verified member of any group
SECURITY_TEAM_ONLY = every(403, anonymous=302, no_device=302, security_team=200)

# URL patterns (as the URLconf spells them) that no entry needs to reach, each with its reason.
UNLISTED = {}

URLS = [
    # console
    ("/healthz", every(200)),
    ("/", LOGGED_IN),
    ("/admin/", every(403, anonymous=302, no_device=302)),  # superusers with a verified device only
    # accounts (allauth)
    ("/accounts/login/", every("/", anonymous=200, no_device=302)),  # logged in: sent home
    ("/accounts/logout/", every(200, anonymous="/")),
    ("/accounts/signup/", every("/", anonymous=200, no_device=302)),  # renders "sign-up is closed"
    ("/accounts/password/change/", LOGGED_IN),
    ("/accounts/password/reset/", every(200, no_device=302)),
    # accounts (MFA, members)
    ("/accounts/mfa/", LOGGED_IN),
    # already enrolled (unverified too): back to the MFA page
    (
        "/accounts/mfa/enroll/",
        every("/accounts/mfa/", anonymous=302, no_device=200, unverified="/accounts/mfa/"),
    ),
    (
        "/accounts/mfa/verify/",
        every("/", anonymous=302, unverified=200),
    ),  # nothing pending / verified: sent on
    ("/accounts/mfa/recovery-codes/", every(405, no_device=302)),  # POST only
    ("/accounts/mfa/recovery-codes/download/", every(405)),  # POST only
    ("/accounts/members/", SECURITY_TEAM_ONLY),
    ("/accounts/members/", every(403, anonymous=302, no_device=302, security_team=400), "post"),  # empty form
    ("/accounts/members/unlock/", every(405, no_device=302)),  # POST only
    ("/accounts/members/unlock/", every(403, anonymous=302, no_device=302, security_team=400), "post"),
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
    (
        "/inventory/runs/start/",
        every(403, anonymous=302, no_device=302, security_team="/inventory/runs/"),
        "post",
    ),
]


# audit (appended by the audit app): security-team, cto and managers read the ledger and export it
AUDIT_READERS = every(403, anonymous=302, no_device=302, security_team=200, cto=200, managers=200)


def _audit_entry():
    from django.db import transaction

    from secrets_admin.audit import actions, sequencer, services

    with transaction.atomic():
        entry = services.record(actions.EXPORTED, actor="matrix", data={"format": "csv", "filter": {}})
    sequencer.link()
    entry.refresh_from_db()
    return f"/audit/{entry.sequence}/"


def _audit_break():
    """A recorded break of the chain, for the acknowledgement form's URL."""
    from secrets_admin.audit.models import AuditCheckpoint

    checkpoint = AuditCheckpoint.objects.create(
        full=True, ok=False, sequence=0, hash="0" * 64, checked_from=1, entries=0, duration_ms=1,
        broken_at=1, problem="entry #1 was altered", kind="altered", fingerprint="altered:1:matrix",
    )  # fmt: skip
    return f"/audit/breaks/{checkpoint.pk}/acknowledge/"


URLS += [
    ("/audit/", AUDIT_READERS),
    ("/audit/", every(405, no_device=302), "post"),  # read-only page
    (_audit_entry, AUDIT_READERS),
    ("/audit/export.csv", AUDIT_READERS),
    ("/audit/export.json", AUDIT_READERS),
    # acknowledging a break: security-team only, POST with a one-time code (empty form: 400)
    (_audit_break, every(405, no_device=302)),
    (_audit_break, every(403, anonymous=302, no_device=302, security_team=400), "post"),
    # read-only admin pages of the ledger's records (superusers with a verified device only)
    ("/admin/audit/auditanchor/", every(403, anonymous=302, no_device=302)),
    ("/admin/audit/breakacknowledgement/", every(403, anonymous=302, no_device=302)),
    ("/admin/audit/intent/", every(403, anonymous=302, no_device=302)),
]


# accounts: more allauth pages (rendered inside the console layout)
URLS += [
    ("/accounts/email/", LOGGED_IN),
    ("/accounts/reauthenticate/", LOGGED_IN),
    ("/accounts/password/reset/done/", every(200, no_device=302)),
    (
        "/accounts/mfa/verify/",
        every("/", anonymous=302, unverified=400),
        "post",
    ),  # no pending login: to login
    # empty form: 400 with errors
    (
        "/accounts/mfa/enroll/",
        every("/accounts/mfa/", anonymous=302, no_device=400, unverified="/accounts/mfa/"),
        "post",
    ),
    ("/accounts/mfa/remove/", LOGGED_IN),  # asks for confirmation and a code
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
    (lambda: _alert_channel("test/"), every(403, anonymous=302, no_device=302, security_team="../"), "post"),
]


# accounts: the rest of allauth's pages
URLS += [
    ("/accounts/inactive/", every(200, no_device=302)),
    ("/accounts/confirm-email/", every(200, no_device=302)),
    ("/accounts/confirm-email/not-a-key/", every(200, no_device=302)),  # "link expired or invalid"
    ("/accounts/login/code/confirm/", every("/", anonymous=302, no_device=302)),  # login by code is off
    ("/accounts/password/set/", every("/accounts/password/change/", anonymous=302, no_device=302)),
    ("/accounts/password/reset/key/1-not-a-key/", every(200, no_device=302)),  # "link not valid"
    ("/accounts/password/reset/key/done/", every(200, no_device=302)),
    # reauthentication by code is off: back to the password form
    ("/accounts/reauthenticate/code/", every("/accounts/reauthenticate/", anonymous=302, no_device=302)),
    (
        "/accounts/reauthenticate/code/confirm/",
        every("/accounts/reauthenticate/code/", anonymous=302, no_device=302),
    ),
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


# console: readiness and the overview's backend panel (appended by the live layer)
URLS += [
    ("/readyz", every(200)),  # open to probes: ready or not and failing names; details for the security team
    ("/status/backends/", LOGGED_IN),
]

# live topics on /ws/live/ (appended by the live layer): topic -> {role: None when the socket is
# served, else the close code it gets}. A user in no group always gets 4403 (tests/console/test_live.py).
LIVE_TOPICS = {
    "inventory.sync": every(None, anonymous=4401, no_device=4401),
    # break-glass: the approvals queue and session timelines, for the approver groups only
    "breakglass.approvals": every(4403, anonymous=4401, no_device=4401, security_team=None, cto=None),
    "breakglass.sessions": every(4403, anonymous=4401, no_device=4401, security_team=None, cto=None),
}


# break-glass and access requests (appended by the breakglass app). The objects belong to another
# developer, so the developers role sees only its own pages; approvers and managers see them all.
REQUESTERS_ONLY = every(403, anonymous=302, no_device=302, developers=200, security_team=200, cto=200)
APPROVERS_ONLY = every(403, anonymous=302, no_device=302, security_team=200, cto=200)
OVERSEERS = every(403, anonymous=302, no_device=302, security_team=200, cto=200, managers=200)


def _access_request(suffix=""):
    from datetime import timedelta

    from django.contrib.auth.models import Group, User
    from django.utils import timezone

    from breakglass.models import AccessRequest

    user, _ = User.objects.get_or_create(username="matrix-requester")
    user.groups.add(Group.objects.get(name="developers"))
    access = AccessRequest.objects.create(
        kind="break_glass", requester=user, requester_name=user.username,
        reason="Matrix: a real sentence here.",
        scope=[{"secret": 0, "backend": "vault", "path": "secret/matrix/key", "environment": "production"}],
        duration_seconds=3600, groups=["security-team", "cto"], request_hash="0" * 64,
        pending_until=timezone.now() + timedelta(hours=1),
    )  # fmt: skip
    return f"/access/{access.pk}/{suffix}"


def _grant(suffix=""):
    from datetime import timedelta

    from django.utils import timezone

    from breakglass.models import AccessRequest, Grant

    pk = int(_access_request().strip("/").split("/")[-1])
    AccessRequest.objects.filter(pk=pk).update(status="active")
    grant = Grant.objects.create(
        request_id=pk, backend="vault", state="active", policy_name="candlefish-grant-matrix",
        expires_at=timezone.now() + timedelta(hours=1),
    )  # fmt: skip
    return f"/access/grants/{grant.pk}/{suffix}"


def _review():
    from breakglass.models import IncidentReview

    grant_pk = int(_grant().strip("/").split("/")[-1])
    return f"/access/reviews/{IncidentReview.objects.create(grant_id=grant_pk).pk}/"


URLS += [
    ("/access/", REQUESTERS_ONLY),
    ("/access/new/", REQUESTERS_ONLY),
    (
        "/access/new/",
        every(403, anonymous=302, no_device=302, developers=400, security_team=400, cto=400),
        "post",
    ),
    ("/access/new/?secret=1", REQUESTERS_ONLY),
    ("/access/approvals/", APPROVERS_ONLY),
    ("/access/all/", OVERSEERS),
    (
        "/access/all/?status=nonsense",
        every(403, anonymous=302, no_device=302, security_team=400, cto=400, managers=400),
    ),
    (_access_request, OVERSEERS),
    # only its requester edits it
    (lambda: _access_request("edit/"), every(403, anonymous=302, no_device=302)),
    (lambda: _access_request("edit/"), every(403, anonymous=302, no_device=302), "post"),
    (
        lambda: _access_request("approve/"),
        every(403, anonymous=302, no_device=302, security_team=405, cto=405),
    ),
    # no code: the form says so
    (
        lambda: _access_request("approve/"),
        every(403, anonymous=302, no_device=302, security_team=400, cto=400),
        "post",
    ),
    (lambda: _access_request("deny/"), every(403, anonymous=302, no_device=302, security_team=405, cto=405)),
    # a denial needs no code; it is final and goes back to the request's page
    (
        lambda: _access_request("deny/"),
        every(403, anonymous=302, no_device=302, security_team="../", cto="../"),
        "post",
    ),
    (lambda: _access_request("evidence/"), OVERSEERS),
    (lambda: _access_request("evidence.json"), OVERSEERS),
    (_grant, OVERSEERS),
    (
        lambda: _grant("reveal/"),
        every(403, anonymous=302, no_device=302, developers=405, security_team=405, cto=405),
    ),
    # only the requester reveals (others: 403, or the empty form refused before anything)
    (lambda: _grant("reveal/"), every(403, anonymous=302, no_device=302, security_team=400, cto=400), "post"),
    (
        lambda: _grant("end/"),
        every(403, anonymous=302, no_device=302, developers=405, security_team=405, cto=405),
    ),
    (lambda: _grant("end/"), every(403, anonymous=302, no_device=302, security_team=400, cto=400), "post"),
    (_review, every(403, anonymous=302, no_device=302, security_team=405)),
    (_review, every(403, anonymous=302, no_device=302, security_team=400), "post"),
]

# rotation (appended by the rotation engine): run progress, for everyone who may view the inventory
LIVE_TOPICS["rotation.runs"] = every(None, anonymous=4401, no_device=4401)

# rotation targets (appended by the targets work): database leases, orphans revoked with a code
URLS += [
    ("/rotation/leases/", SECURITY_TEAM_ONLY),
    ("/rotation/leases/", every(403, anonymous=302, no_device=302, security_team=400), "post"),  # empty form
]

# schedule (appended by the schedule app): whoever reads the inventory reads policies, overrides,
# links and the calendar; the security team edits them, each with a one-time code (empty form: 400)
SECURITY_TEAM_POSTS = every(403, anonymous=302, no_device=302, security_team=400)


def _schedule_policy():
    from secrets_admin.inventory.models import RotationPolicy

    return f"/schedule/policies/{RotationPolicy.objects.get(name='api-key-90-days').pk}/edit/"


def _schedule_override(suffix=""):
    from secrets_admin.inventory.models import Secret
    from secrets_admin.schedule.models import SecretOverride

    secret, _ = Secret.objects.get_or_create(backend="vault", path="secret/matrix/key", kind="api_key")
    SecretOverride.objects.get_or_create(secret=secret, defaults={"interval_days": 30})
    return f"/schedule/overrides/{secret.pk}/{suffix}"


def _schedule_link():
    from secrets_admin.inventory.models import Secret
    from secrets_admin.schedule.models import SecretLink

    a, _ = Secret.objects.get_or_create(backend="vault", path="secret/matrix/key", kind="api_key")
    b, _ = Secret.objects.get_or_create(backend="vault", path="secret/matrix/consumer", kind="api_key")
    first, second = sorted((a.pk, b.pk))
    link, _ = SecretLink.objects.get_or_create(
        first_id=first, second_id=second, defaults={"reason": "matrix"}
    )
    return f"/schedule/links/{link.pk}/remove/"


URLS += [
    ("/schedule/policies/", LOGGED_IN),
    (_schedule_policy, SECURITY_TEAM_ONLY),
    (_schedule_policy, SECURITY_TEAM_POSTS, "post"),
    ("/schedule/overrides/", LOGGED_IN),
    (_schedule_override, SECURITY_TEAM_ONLY),
    (_schedule_override, SECURITY_TEAM_POSTS, "post"),
    (lambda: _schedule_override("remove/"), SECURITY_TEAM_ONLY),
    (lambda: _schedule_override("remove/"), SECURITY_TEAM_POSTS, "post"),
    ("/schedule/links/", LOGGED_IN),
    ("/schedule/links/new/", SECURITY_TEAM_ONLY),
    ("/schedule/links/new/", SECURITY_TEAM_POSTS, "post"),
    (_schedule_link, SECURITY_TEAM_ONLY),
    (_schedule_link, SECURITY_TEAM_POSTS, "post"),
    ("/schedule/calendar/", LOGGED_IN),
    ("/schedule/calendar/", every(405, anonymous=302, no_device=302), "post"),  # read-only page
]


def _rotation_secret():
    from secrets_admin.inventory.models import RotationPolicy, Secret

    policy = RotationPolicy.objects.filter(kind="api_key", is_default=True).first()
    secret, _ = Secret.objects.get_or_create(
        backend="vault", path="secret/matrix/rotated", defaults={"name": "rotated", "kind": "api_key"}
    )
    Secret.objects.filter(pk=secret.pk).update(rotation_policy=policy)
    secret.rotation_policy = policy
    return secret


def _rotation_run():
    from secrets_admin.rotation.models import RotationRun

    run = RotationRun.objects.create(secret=_rotation_secret(), strategy="blue-green", state="finished")
    return f"/rotation/runs/{run.pk}/"


URLS += [
    ("/rotation/", LOGGED_IN),
    (_rotation_run, LOGGED_IN),
    (lambda: f"/rotation/secrets/{_rotation_secret().pk}/rotate/", SECURITY_TEAM_ONLY),
    # POST without a one-time code: the form says what is missing (nothing starts)
    (
        lambda: f"/rotation/secrets/{_rotation_secret().pk}/rotate/",
        every(403, anonymous=302, no_device=302, security_team=400),
        "post",
    ),
    (lambda: f"/rotation/secrets/{_rotation_secret().pk}/hook/", SECURITY_TEAM_ONLY),
    (
        lambda: f"/rotation/secrets/{_rotation_secret().pk}/hook/",
        every(403, anonymous=302, no_device=302, security_team=400),
        "post",
    ),
]


# a policy's rotation hook (appended by the rotation engine): set or cleared with a one-time code
def _policy_hook():
    return f"/rotation/policies/{_rotation_secret().rotation_policy_id}/hook/"


def _policy_hook_clear():
    return _policy_hook() + "clear/"


URLS += [
    (_policy_hook, SECURITY_TEAM_ONLY),
    # POST without URL, key or code: the form names what is missing
    (_policy_hook, every(403, anonymous=302, no_device=302, security_team=400), "post"),
    (_policy_hook_clear, every(403, anonymous=302, no_device=302, security_team=405)),  # GET: a POST only
    # POST without a code: nothing is cleared
    (_policy_hook_clear, every(403, anonymous=302, no_device=302, security_team=400), "post"),
]


# sealed (appended by the Sealed Secrets app): whoever reads the inventory reads the page; the
# security team starts a re-seal campaign and confirms key backups, each with a one-time code


def _sealed_key():
    from datetime import UTC, datetime

    from secrets_admin.sealed.models import SealingKey

    key, _ = SealingKey.objects.get_or_create(
        fingerprint="SHA256:matrix",
        defaults={"subject": "CN=sealed-secret", "not_after": datetime(2036, 1, 1, tzinfo=UTC)},
    )
    return f"/sealed/keys/{key.pk}/backed-up/"


SEALED_POST_ONLY = every(403, anonymous=302, no_device=302, security_team=405)
URLS += [
    ("/sealed/", LOGGED_IN),
    ("/sealed/", every(405, anonymous=302, no_device=302), "post"),  # read-only page
    ("/sealed/campaign/", SEALED_POST_ONLY),
    ("/sealed/campaign/", SECURITY_TEAM_POSTS, "post"),
    (_sealed_key, SEALED_POST_ONLY),
    (_sealed_key, SECURITY_TEAM_POSTS, "post"),
]

# dashboard (appended by the dashboard core): the tiles' topic and the list behind the success
# tiles, for the security team, the CTO group and managers (read-only: a POST is 405)
DASHBOARD = every(403, anonymous=302, no_device=302, security_team=200, cto=200, managers=200)
DASHBOARD_BAD_INPUT = every(
    403, anonymous=302, no_device=302, security_team=400, cto=400, managers=400
)  # a bad query string: 400 saying what to fix
DASHBOARD_NO_POST = every(403, anonymous=302, no_device=302, security_team=405, cto=405, managers=405)
URLS += [
    ("/dashboard/runs/", DASHBOARD),
    ("/dashboard/mfa/", DASHBOARD),
    ("/dashboard/runs/?days=abc", DASHBOARD_BAD_INPUT),
    ("/dashboard/runs/", DASHBOARD_NO_POST, "post"),
]
LIVE_TOPICS["dashboard.tiles"] = every(
    4403, anonymous=4401, no_device=4401, security_team=None, cto=None, managers=None
)

# access patterns, cost and break-glass analytics (appended by the usage app): read-only pages
# for the security team, the CTO and managers; a bad filter answers 400 with what to fix
USAGE_READERS, USAGE_BAD_FILTER, USAGE_NO_POST = DASHBOARD, DASHBOARD_BAD_INPUT, DASHBOARD_NO_POST
URLS += [
    ("/usage/", USAGE_READERS),
    ("/usage/?from=2026-13-01", USAGE_BAD_FILTER),
    ("/usage/?secret=abc", USAGE_BAD_FILTER),
    ("/usage/", USAGE_NO_POST, "post"),
    ("/usage/cost/", USAGE_READERS),
    ("/usage/cost/", USAGE_NO_POST, "post"),
    ("/access/analytics/", USAGE_READERS),
    ("/access/analytics/?from=2026-02-01&to=2026-01-01", USAGE_BAD_FILTER),
    ("/access/analytics/", USAGE_NO_POST, "post"),
]

# compliance (appended by the compliance app): security-team, cto and managers read the scores and
# drill-downs and export evidence (an empty or bad export form: 400 with what to fix)
COMPLIANCE_READERS, COMPLIANCE_REFUSED = DASHBOARD, DASHBOARD_BAD_INPUT
URLS += [
    ("/compliance/", COMPLIANCE_READERS),
    ("/compliance/?days=nonsense", COMPLIANCE_REFUSED),
    ("/compliance/", every(405, no_device=302), "post"),  # read-only page
    ("/compliance/soc2/", COMPLIANCE_READERS),
    ("/compliance/soc2/cc6-1/", COMPLIANCE_READERS),
    ("/compliance/export/", COMPLIANCE_READERS),
    ("/compliance/export/", COMPLIANCE_REFUSED, "post"),
]
