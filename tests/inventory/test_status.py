"""Due dates and status from known dates (no clock mocking: `now` is passed in)."""

from datetime import UTC, datetime, timedelta

import pytest

from secrets_admin.inventory.models import RotationPolicy, Secret
from secrets_admin.inventory.services import status

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def policy(kind):
    return RotationPolicy.objects.get(kind=kind, is_default=True)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "last_rotated", "expires_at", "due", "state"),
    [
        ("api_key", NOW - 10 * DAY, None, NOW + 80 * DAY, "ok"),
        ("api_key", NOW - 85 * DAY, None, NOW + 5 * DAY, "due_soon"),
        ("password", NOW - 31 * DAY, None, NOW - 1 * DAY, "overdue"),
        ("database", NOW - 6 * DAY, None, NOW + 1 * DAY, "due_soon"),
        ("certificate", None, NOW + 60 * DAY, NOW + 30 * DAY, "ok"),
        ("certificate", None, NOW + 35 * DAY, NOW + 5 * DAY, "due_soon"),
        ("certificate", None, NOW + 20 * DAY, NOW - 10 * DAY, "overdue"),
        ("password", NOW - 1 * DAY, NOW + 2 * DAY, NOW + 2 * DAY, "due_soon"),  # expiry bounds the interval
    ],
)
def test_known_due_dates_and_states(kind, last_rotated, expires_at, due, state):
    secret = Secret(kind=kind, last_rotated=last_rotated, expires_at=expires_at, created_at=NOW - 400 * DAY)
    secret.rotation_policy = policy(kind)
    status.refresh(secret, secret.rotation_policy, NOW)
    assert (secret.next_due, secret.status) == (due, state)


def test_without_policy_or_dates_nothing_is_due():
    secret = Secret(kind="generic", created_at=NOW - 1000 * DAY)
    status.refresh(secret, None, NOW)
    assert (secret.next_due, secret.status) == (None, "ok")


def test_interval_counts_from_creation_when_never_rotated():
    secret = Secret(kind="api_key", created_at=NOW - 100 * DAY)
    assert status.next_due(secret, RotationPolicy(interval_days=90)) == NOW - 10 * DAY


def test_missing_and_problems_outrank_dates():
    overdue = Secret(kind="password", next_due=NOW - DAY)
    assert status.status(overdue, NOW) == "overdue"
    overdue.problem = "permission denied"
    assert status.status(overdue, NOW) == "needs_attention"
    overdue.missing_since = NOW
    assert status.status(overdue, NOW) == "missing"
