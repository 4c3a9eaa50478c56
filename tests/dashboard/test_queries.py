"""The dashboard's page costs the same number of queries whatever the estate's size: every
figure is an aggregate, never one query (or one loop) per secret, run or grant, both when the
page reads the stored figures and when services.snapshot recomputes them."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from secrets_admin.inventory.models import RotationPolicy
from secrets_admin.schedule.models import SecretLink
from tests.accounts.factories import verified_client
from tests.dashboard import estate

pytestmark = pytest.mark.django_db

STATUSES = ("ok", "due_soon", "overdue")


def grow(start: int, end: int, requester) -> None:
    policy = RotationPolicy.objects.get(kind="api_key", is_default=True)
    now = timezone.now()
    made = []
    for i in range(start, end):
        secret = estate.secret(
            f"secret/grow/{i}", backend=("vault", "aws")[i % 2], environment=("production", "staging")[i % 2],
            status=STATUSES[i % 3], rotation_policy=policy, next_due=now + timedelta(days=i % 30, hours=1),
            last_rotated=now - timedelta(days=(i * 17) % 400),
        )  # fmt: skip
        estate.run(secret, "finished", days_ago=i % 90)
        estate.run(secret, ("failed", "needs_person")[i % 2], days_ago=(i * 7) % 90, error="refused")
        estate.access_request(requester, "active", grant_state="active")
        made.append(secret)
    for left, right in zip(made[::2], made[1::2], strict=False):
        SecretLink.objects.create(first_id=left.pk, second_id=right.pk, reason="pair")


def count_home(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
    return len(queries)


def count_recompute() -> int:
    from secrets_admin.dashboard.services import snapshot

    with CaptureQueriesContext(connection) as queries:
        snapshot.recompute()
    return len(queries)


def test_the_same_number_of_queries_at_5_and_at_50_secrets():
    requester = estate.person("requester", "developers")
    client = verified_client(estate.person("manager", "managers"))
    grow(0, 5, requester)
    count_home(client)  # warm: sessions, content types
    small, small_recompute = count_home(client), count_recompute()
    grow(5, 50, requester)
    large, large_recompute = count_home(client), count_recompute()
    assert small == large, f"{small} queries at 5 secrets, {large} at 50"
    # the page reads the stored figures; what stores them must not grow with the estate either
    assert small_recompute == large_recompute, f"recompute: {small_recompute} vs {large_recompute}"
