"""Usage fixtures: inventory rows, rollup rows at hand-picked hours, people per group."""

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Group, User

from secrets_admin.inventory.models import Secret
from secrets_admin.usage.services import ingest
from tests.accounts.factories import make_device, verified_client

NOW = datetime(2026, 11, 20, 12, 30, tzinfo=UTC)  # the tests' "now": 12:30 UTC
HOUR = NOW.replace(minute=0)


@pytest.fixture
def secret(db):
    """secret("secret/app/db", backend="vault", created_days=200, **fields) -> an inventory row."""
    made = Counter()

    def make(path, *, backend="vault", created_days=200, **fields):
        made[path] += 1
        return Secret.objects.create(
            backend=backend,
            path=path,
            name=path.rsplit("/", 1)[-1],
            created_at=NOW - timedelta(days=created_days),
            **fields,
        )

    return make


@pytest.fixture
def reads(db):
    """reads({(hours_before_HOUR, path, identity): n}, operation="read") -> rollup rows."""

    def add(counts: dict, *, operation="read", demo=False):
        rows = Counter()
        for (hours_ago, path, identity), n in counts.items():
            rows[(HOUR - timedelta(hours=hours_ago), path, identity, "", operation)] += n
        ingest.add_counts(rows, demo=demo)

    return add


@pytest.fixture
def member(db):
    def make(username, *groups):
        user = User.objects.create_user(username, f"{username}@example.com", "a-long-test-password")
        for name in groups:
            user.groups.add(Group.objects.get_or_create(name=name)[0])
        return verified_client(user, make_device(user))

    return make
