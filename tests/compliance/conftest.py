"""Compliance fixtures: people in groups, secrets, break-glass requests with approvals, grants —
each built directly in the database, as the state a measure reads."""

import itertools
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

from tests.accounts.factories import make_device, verified_client

_steps = itertools.count(1)


def person(username, *groups, device=True):
    user = User.objects.create_user(username, f"{username}@candlefish.example", "a-long-test-password")
    for name in groups:
        user.groups.add(Group.objects.get(name=name))
    return user, (make_device(user) if device else None)


@pytest.fixture
def manager_client(db):
    user, device = person("frank", "managers")
    return verified_client(user, device)


def secret(path, *, kind="api_key", status="ok", policy=True, **fields):
    from secrets_admin.inventory.models import RotationPolicy, Secret

    chosen = RotationPolicy.objects.filter(kind=kind, is_default=True).first() if policy else None
    return Secret.objects.create(
        backend="vault", path=path, name=fields.pop("name", path), kind=kind, status=status,
        rotation_policy=chosen, **fields,
    )  # fmt: skip


def code_for(device):
    from secrets_admin.accounts.models import UsedCode

    return UsedCode.objects.create(device=device, step=next(_steps), purpose="breakglass.approve:test")


def break_glass(
    requester, approvers, *, approved_at=None, kind="break_glass", scope_size=1, hours=4, proof=True
):
    """An approved request by `requester` with one approval per (user, device, group) given."""
    from breakglass.models import AccessRequest, Approval

    now = timezone.now()
    access = AccessRequest.objects.create(
        kind=kind, requester=requester, requester_name=requester.username,
        reason="The payments database is down and needs a look.",
        scope=[
            {"secret": i, "backend": "vault", "path": f"secret/p/{i}", "environment": "production"}
            for i in range(scope_size)
        ],
        duration_seconds=hours * 3600, groups=["security-team", "cto"], request_hash="a" * 64,
        pending_until=now + timedelta(hours=1), status="active", approved_at=approved_at or now,
        created_at=(approved_at or now) - timedelta(minutes=5),
    )  # fmt: skip
    for user, device, group in approvers:
        Approval.objects.create(
            request=access, group=group, approver=user, approver_name=user.username, request_hash="a" * 64,
            used_code=code_for(device) if proof else None,
        )  # fmt: skip
    return access


def grant(access, **fields):
    from breakglass.models import Grant

    now = timezone.now()
    values = {"backend": "vault", "state": "active", "policy_name": f"candlefish-grant-{access.pk}",
              "issued_at": now, "expires_at": now + timedelta(hours=4)}  # fmt: skip
    values.update(fields)
    return Grant.objects.create(request=access, **values)
