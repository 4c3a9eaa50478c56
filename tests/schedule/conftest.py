"""Schedule fixtures: secrets on the default policies (made directly; the inventory's services
have tests of their own), and a security engineer with an authenticator."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Group, User

from secrets_admin.inventory.models import RotationPolicy, Secret
from secrets_admin.schedule.models import PolicySettings
from tests.accounts.factories import make_device, verified_client

NOW = datetime(2026, 1, 14, 12, 0, tzinfo=UTC)  # a Wednesday


@pytest.fixture
def api_policy(db):
    return RotationPolicy.objects.get(name="api-key-90-days")


@pytest.fixture
def make_secret(api_policy):
    counter = iter(range(1, 100_000))

    def make(path=None, *, due=NOW, policy=api_policy, **fields):
        fields.setdefault("kind", policy.kind if policy else "generic")
        if due is not None and policy is not None and policy.interval_days and "created_at" not in fields:
            # dates the inventory's rules agree with (an override's save recomputes next_due)
            fields.setdefault("last_rotated", due - timedelta(days=policy.interval_days))
        return Secret.objects.create(
            backend="vault",
            path=path or f"secret/schedule/{next(counter)}",
            rotation_policy=policy,
            next_due=due,
            **fields,
        )

    return make


@pytest.fixture
def window_on(api_policy):
    """Give the API-key policy a window: window_on([0, 1], "22:00", "02:00", "Europe/Berlin")."""

    def set_window(days, start, end, tz="UTC", policy=None):
        from datetime import time

        knobs, _ = PolicySettings.objects.get_or_create(policy=policy or api_policy)
        knobs.window_days, knobs.window_tz = list(days), tz
        knobs.window_start, knobs.window_end = time.fromisoformat(start), time.fromisoformat(end)
        knobs.save()
        return knobs

    return set_window


def member(username, group):
    user = User.objects.create_user(username, f"{username}@candlefish.example", "a-long-test-password")
    user.groups.add(Group.objects.get(name=group))
    device = make_device(user)
    return user, device, verified_client(user, device)


@pytest.fixture
def security_person(db):
    """carol, security-team, with an authenticator: (user, device, verified client)."""
    return member("carol", "security-team")
