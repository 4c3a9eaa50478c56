"""Each headline figure against the hand-computed fixture in tests/dashboard/estate.py."""

import pytest
from django.conf import settings
from django.core.cache import cache

from console.health import CACHE_KEY
from secrets_admin.audit.models import AuditAnchor, AuditCheckpoint
from secrets_admin.dashboard.services.headline import headline_numbers
from tests.dashboard import estate


@pytest.fixture
def numbers(db):
    estate.build()
    return headline_numbers()


def test_secrets_by_backend_and_environment(numbers):
    s = numbers["secrets"]
    assert s["total"] == 6
    assert s["backends"] == {"aws": 2, "vault": 4}
    assert s["environments"] == {"production": 5, "staging": 1}
    assert s["cells"] == [
        {"backend": "aws", "environment": "production", "count": 2},
        {"backend": "vault", "environment": "production", "count": 3},
        {"backend": "vault", "environment": "staging", "count": 1},
    ]


def test_overdue_and_due_soon(numbers):
    assert numbers["rotations"] == {"overdue": 2, "due_soon": 1}


def test_success_rates_against_the_target(numbers):
    # 7 days: 3 finished, 1 failed; 30: +1 finished, +1 needs a person; 90: +4 finished.
    # The cancelled run, the running one and the one 100 days ago are not counted.
    windows = {w["days"]: w for w in numbers["success"]["windows"]}
    assert numbers["success"]["target"] == 99.9
    assert (windows[7]["finished"], windows[7]["ended"], windows[7]["rate"]) == (3, 4, 75.0)
    assert (windows[30]["finished"], windows[30]["ended"], windows[30]["rate"]) == (4, 6, 66.67)
    assert (windows[90]["finished"], windows[90]["failed"], windows[90]["rate"]) == (8, 2, 80.0)
    assert not any(w["meets_target"] for w in windows.values())


def test_active_grants_and_pending_approvals(numbers):
    # Three grants in state active, one past its end; one pending request.
    assert numbers["access"] == {"active_grants": 2, "pending_approvals": 1}


def test_mfa_coverage_of_privileged_people(numbers):
    # alice (security team, device), bob (cto, none), carol (superuser, unconfirmed device);
    # dave is a manager, eve is deactivated.
    assert numbers["mfa"] == {"privileged": 3, "covered": 1, "missing": 2, "rate": 33.33}


@pytest.mark.django_db
def test_audit_chain_and_anchor_from_recorded_state():
    chain = headline_numbers()["audit"]
    assert (chain["state"], chain["verified_to"], chain["anchor"]) == ("unverified", None, "never")

    fields = {"hash": "a" * 64, "checked_from": 1, "entries": 7, "duration_ms": 3}
    AuditCheckpoint.objects.create(full=True, ok=True, sequence=7, **fields)
    AuditAnchor.objects.create(
        ok=True, reason="periodic", sequence=7, hash="a" * 64, store=settings.AUDIT_ANCHOR
    )
    chain = headline_numbers()["audit"]
    assert (chain["state"], chain["verified_to"], chain["anchor"], chain["anchor_sequence"]) == (
        "intact", 7, "fresh", 7
    )  # fmt: skip

    AuditCheckpoint.objects.create(
        full=False, ok=False, sequence=7, broken_at=5, problem="altered", fingerprint="fp-5", **fields
    )
    chain = headline_numbers()["audit"]
    assert (chain["state"], chain["open_breaks"]) == ("broken", 1)


@pytest.mark.django_db
def test_backends_up_sealed_or_down_from_the_readiness_cache(monkeypatch):
    cache.delete(CACHE_KEY)
    assert headline_numbers()["backends"]["checked"] is False
    cache.set(CACHE_KEY, {
        "database": {"ok": True, "ms": 1},
        "redis": {"ok": True, "ms": 1},
        "vault": {"ok": False, "ms": 3, "error": "BackendError: OpenBao/Vault is sealed"},
        "aws": {"ok": False, "ms": 2000, "error": "no answer within 2 s"},
    })  # fmt: skip
    try:
        found = headline_numbers()["backends"]
    finally:
        cache.delete(CACHE_KEY)
    assert (found["up"], found["sealed"], found["down"]) == (2, 1, 1)
    assert found["states"]["vault"] == "sealed"
