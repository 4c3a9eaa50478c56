"""Break-glass and access requests: requests, approvals, grants, reviews, and their live topics."""

from tests.matrix.roles import every

# break-glass and access requests. The objects belong to another
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


URLS = [
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

# live topics on /ws/live/ (see tests/permission_matrix.py)
LIVE_TOPICS = {
    # break-glass: the approvals queue and session timelines, for the approver groups only
    "breakglass.approvals": every(4403, anonymous=4401, no_device=4401, security_team=None, cto=None),
    "breakglass.sessions": every(4403, anonymous=4401, no_device=4401, security_team=None, cto=None),
}
