"""Rotation fixtures: the inventory's backends and people, secrets with a policy, and a test
strategy (`counting`) whose steps count their calls in the run state and can be told to fail."""

import pytest

from secrets_admin.rotation import strategies
from tests.inventory.conftest import (  # noqa: F401  (fixtures shared with the inventory tests)
    aws_backend,
    client_for,
    kv,
    kv_backend,
    people,
    person,
    put_kv,
    sm,
    totp_for,
)


@pytest.fixture
def counting(monkeypatch):
    """Register the `counting` strategy (tests/rotation/strategies.py) for this test."""
    monkeypatch.setitem(strategies.STRATEGIES, "counting", "tests.rotation.strategies.Counting")
    strategies._loaded.pop("counting", None)
    from tests.rotation.strategies import Counting

    Counting.failures.clear()
    yield Counting
    Counting.failures.clear()


@pytest.fixture
def make_secret(db):
    """make_secret(path, backend="vault", kind="api_key") -> an inventory Secret with the kind's
    default policy (the backend value, if any, is the test's business)."""
    from secrets_admin.inventory.models import RotationPolicy, Secret

    def make(path, *, backend="vault", kind="api_key", **fields):
        policy = RotationPolicy.objects.filter(kind=kind, is_default=True).first()
        return Secret.objects.create(
            backend=backend,
            path=path,
            name=path.rsplit("/", 1)[-1],
            kind=kind,
            rotation_policy=policy,
            **fields,
        )

    return make
