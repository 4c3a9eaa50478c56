"""A small estate whose dashboard numbers are computed by hand (tests/dashboard/test_headline.py
states each figure and why)."""

from datetime import timedelta

from django.contrib.auth.models import Group, User
from django.utils import timezone

from breakglass.models import AccessRequest, Grant
from secrets_admin.inventory.models import Secret
from secrets_admin.rotation.models import RotationRun
from tests.accounts.factories import make_device


def secret(path, *, backend="vault", environment="production", status="ok", kind="api_key", **fields):
    return Secret.objects.create(
        backend=backend, path=path, name=path, environment=environment, status=status, kind=kind, **fields
    )


def run(target, state, *, days_ago=None, hours_ago=0, error=""):
    finished = None if days_ago is None else timezone.now() - timedelta(days=days_ago, hours=hours_ago)
    return RotationRun.objects.create(
        secret=target, strategy="rolling", state=state, finished_at=finished, error=error
    )


def person(username, *groups, superuser=False, device=None, active=True):
    user = User.objects.create_user(
        username=username, password="x-long-enough-password", is_superuser=superuser, is_active=active
    )
    for name in groups:
        user.groups.add(Group.objects.get(name=name))
    if device is not None:
        make_device(user, confirmed=device)
    return user


def access_request(requester, status, *, grant_state=None, expires_in_hours=1):
    now = timezone.now()
    request = AccessRequest.objects.create(
        kind="break_glass", requester=requester, requester_name=requester.username,
        reason="Dashboard fixture: a real sentence here.", scope=[], duration_seconds=3600,
        groups=["security-team", "cto"], request_hash="0" * 64, status=status,
        pending_until=now + timedelta(hours=1),
    )  # fmt: skip
    if grant_state is not None:
        Grant.objects.create(
            request=request, backend="vault", state=grant_state, policy_name="fixture",
            expires_at=now + timedelta(hours=expires_in_hours),
        )  # fmt: skip
    return request


def build():
    """Six secrets, thirteen runs, four requests (two live grants), five people."""
    a = secret("secret/a", status="overdue")
    secret("secret/b", status="due_soon")
    secret("secret/c")
    secret("secret/d", environment="staging")
    e = secret("prod/e", backend="aws", status="overdue")
    secret("prod/f", backend="aws")

    for _ in range(3):
        run(a, "finished", days_ago=2)
    run(e, "failed", days_ago=3, error="AWS refused the new version")
    run(a, "finished", days_ago=20)
    run(e, "needs_person", days_ago=25, error="test step failed 5 times")
    for _ in range(4):
        run(a, "finished", days_ago=60)
    run(a, "finished", days_ago=100)  # outside every window
    run(a, "cancelled", days_ago=1)  # a person stopped it: not a failure
    run(e, "running")  # not ended

    requester = person("requester", "developers")
    access_request(requester, "active", grant_state="active")
    access_request(requester, "active", grant_state="active")
    access_request(requester, "ended", grant_state="active", expires_in_hours=-1)  # past its end
    access_request(requester, "pending")

    person("alice", "security-team", device=True)
    person("bob", "cto")
    person("carol", superuser=True, device=False)  # an unconfirmed authenticator does not count
    person("dave", "managers", device=True)  # not privileged
    person("eve", "security-team", device=True, active=False)  # deactivated: not counted
    return {"a": a, "e": e, "requester": requester}
