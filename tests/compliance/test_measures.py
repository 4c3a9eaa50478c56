"""Each measure passes and fails on a fixture built for it, with its numbers and failing items;
each control of every framework then passes on the good estate and fails when one of its
measures is broken."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from secrets_admin.audit import actions as audit_actions
from secrets_admin.audit import sequencer, verification
from secrets_admin.audit.models import AuditCheckpoint
from secrets_admin.audit.services import record
from secrets_admin.compliance import mapping
from secrets_admin.compliance.measures import FAIL, NONE, PARTIAL, PASS
from secrets_admin.compliance.services import scoring
from tests.compliance.conftest import break_glass, grant, person, secret

pytestmark = pytest.mark.django_db


def measure(name, **period):
    return scoring.measure(scoring.period_for(**period), [name])[name]


def ledger_verified():
    with transaction.atomic():
        record(audit_actions.EXPORTED, actor="test", data={"format": "csv", "filter": {}})
    sequencer.link()
    assert verification.verify(full=True).ok


@pytest.fixture
def good_estate():
    secret("secret/app/api", status="ok")
    secret(
        "pki/cert/1", kind="certificate", name="api.internal", expires_at=timezone.now() + timedelta(days=200)
    )
    carol, carol_device = person("carol", "security-team")
    erin, erin_device = person("erin", "cto")
    alice, _ = person("alice", "developers")
    access = break_glass(alice, [(carol, carol_device, "security-team"), (erin, erin_device, "cto")])
    grant(access)
    ledger_verified()
    return {"carol": carol, "erin": erin, "alice": alice, "access": access}


def test_everything_passes_on_the_good_estate(good_estate):
    results = scoring.measure(scoring.period_for(), mapping.MEASURES)
    assert {name: r.status for name, r in results.items()} == dict.fromkeys(mapping.MEASURES, PASS)
    assert results["mfa_privileged"].numbers == {"privileged_people": 2, "with_mfa": 2, "without_mfa": 0}
    assert results["dual_control_emergency"].numbers["dual_control"] == 1


def test_nothing_to_measure_is_no_evidence_and_not_scored():
    results = scoring.evaluate(scoring.period_for())
    assert all(r.score is None for r in results)
    assert measure("rotation_within_policy").status == NONE


def test_rotation_within_policy_fails_partials_and_lists_overdue_secrets():
    late = secret("secret/app/late", status="overdue", next_due=timezone.now() - timedelta(days=3))
    secret("secret/app/no-policy", status="overdue", policy=False)  # not under a policy: not measured
    result = measure("rotation_within_policy")
    assert result.status == FAIL and result.numbers["overdue"] == 1 and result.numbers["secrets"] == 1
    assert [i.id for i in result.failing] == [str(late.pk)]
    assert (
        result.failing[0].url == f"/inventory/{late.pk}/" and result.list_url == "/inventory/?status=overdue"
    )
    for i in range(29):
        secret(f"secret/app/ok-{i}")
    assert measure("rotation_within_policy").status == PARTIAL  # 29 of 30: 96.7% ≥ 95%


def test_an_exemption_with_a_reason_is_not_a_failure():
    from secrets_admin.schedule.models import SecretOverride

    late = secret("secret/app/late", status="overdue")
    SecretOverride.objects.create(
        secret=late, exempt_until=timezone.now() + timedelta(days=9), exempt_reason="vendor freeze"
    )
    result = measure("rotation_within_policy")
    assert result.status == NONE and result.numbers["exempt"] == 1


def test_mfa_for_privileged_people_fails_for_a_person_without_an_authenticator():
    person("carol", "security-team")
    person("erin", "cto", device=False)
    alice, _ = person("alice", "developers", device=False)  # not privileged
    result = measure("mfa_privileged")
    assert result.status == FAIL and result.numbers["without_mfa"] == 1
    assert [i.name for i in result.failing] == ["erin"] and result.failing[0].url == "/audit/?person=erin"
    alice.is_superuser = True
    alice.save()
    assert [i.name for i in measure("mfa_privileged").failing] == ["alice", "erin"]


def test_dual_control_fails_for_a_single_approval_or_one_without_a_code():
    carol, device = person("carol", "security-team")
    erin, erin_device = person("erin", "cto")
    alice, _ = person("alice", "developers")
    single = break_glass(alice, [(carol, device, "security-team")])
    result = measure("dual_control_emergency")
    assert result.status == FAIL and [i.id for i in result.failing] == [str(single.pk)]
    no_code = break_glass(alice, [(carol, device, "security-team"), (erin, erin_device, "cto")], proof=False)
    assert {i.id for i in measure("dual_control_emergency").failing} == {str(single.pk), str(no_code.pk)}
    # outside the period: not counted
    old = timezone.now() - timedelta(days=200)
    break_glass(alice, [(carol, device, "security-team")], approved_at=old)
    assert measure("dual_control_emergency").numbers["break_glass_approved"] == 2


def test_audit_integrity_fails_on_an_open_break_and_partials_without_a_recent_verification():
    with transaction.atomic():
        record(audit_actions.EXPORTED, actor="test", data={"format": "csv", "filter": {}})
    sequencer.link()
    assert measure("audit_integrity").status == PARTIAL  # never verified
    ledger_verified()
    assert measure("audit_integrity").status == PASS
    AuditCheckpoint.objects.create(
        full=True, ok=False, sequence=0, hash="0" * 64, checked_from=1, entries=0, duration_ms=1,
        broken_at=1, problem="entry #1 was altered", kind="altered", fingerprint="altered:1:x",
    )  # fmt: skip
    result = measure("audit_integrity")
    assert (
        result.status == FAIL and result.numbers["open_breaks"] == 1 and result.failing[0].name == "entry #1"
    )


def test_least_privilege_fails_for_a_wide_or_long_or_lingering_grant():
    carol, device = person("carol", "security-team")
    alice, _ = person("alice", "developers")
    wide = grant(break_glass(alice, [(carol, device, "security-team")], scope_size=11))
    assert measure("least_privilege_grants").status == FAIL
    (item,) = measure("least_privilege_grants").failing
    assert item.id == str(wide.pk) and "11 secrets in scope" in item.reason
    now = timezone.now()
    for _ in range(3):
        grant(break_glass(alice, [(carol, device, "security-team")]))
    late = grant(break_glass(alice, [(carol, device, "security-team")]), expires_at=now - timedelta(hours=1))
    ended = grant(
        break_glass(alice, [(carol, device, "security-team")]),
        state="ended",
        ended_at=now - timedelta(hours=2),
    )
    long = grant(break_glass(alice, [(carol, device, "security-team")], hours=12))
    result = measure("least_privilege_grants")
    reasons = {i.id: i.reason for i in result.failing}
    assert result.numbers == {"grants": 7, "within_limits": 3, "over_limits": 4}
    assert "still active after its expiry" in reasons[str(late.pk)]
    assert "never confirmed the token gone" in reasons[str(ended.pk)]
    assert "longer than the 8 h cap" in reasons[str(long.pk)]


def test_key_expiry_fails_on_an_expired_certificate_and_partials_within_the_warning():
    now = timezone.now()
    soon = secret("pki/cert/2", kind="certificate", name="soon.internal", expires_at=now + timedelta(days=20))
    assert measure("key_expiry").status == PARTIAL
    expired = secret(
        "pki/cert/3", kind="certificate", name="old.internal", expires_at=now - timedelta(days=1)
    )
    result = measure("key_expiry")
    assert result.status == FAIL and result.numbers["expired"] == 1
    assert [i.id for i in result.failing] == [str(expired.pk), str(soon.pk)]
    # renewed: a certificate for the same name outlives the warning
    secret("pki/cert/4", kind="certificate", name="old.internal", expires_at=now + timedelta(days=300))
    secret("pki/cert/5", kind="certificate", name="soon.internal", expires_at=now + timedelta(days=300))
    assert measure("key_expiry").status == PASS


BREAKERS = {
    "rotation_within_policy": lambda ctx: secret("secret/app/late", status="overdue"),
    "mfa_privileged": lambda ctx: person("dave", "security-team", device=False),
    "dual_control_emergency": lambda ctx: break_glass(ctx["alice"], []),
    "audit_integrity": lambda ctx: AuditCheckpoint.objects.create(
        full=True,
        ok=False,
        sequence=0,
        hash="0" * 64,
        checked_from=1,
        entries=0,
        duration_ms=1,
        broken_at=1,
        problem="altered",
        kind="altered",
        fingerprint="altered:1:y",
    ),  # fmt: skip
    "least_privilege_grants": lambda ctx: grant(
        break_glass(ctx["alice"], [], kind="standard", scope_size=50)
    ),
    "key_expiry": lambda ctx: secret("pki/cert/9", kind="certificate", name="x", expires_at=timezone.now()),
}


@pytest.mark.parametrize("broken", list(BREAKERS))
def test_each_control_passes_on_the_good_estate_and_fails_when_its_evidence_breaks(good_estate, broken):
    """Every control of every framework: pass on the good estate; after `broken` is broken,
    fail exactly where the control maps to that measure (the others still pass)."""

    def statuses():
        return {
            (f.framework.id, c.control.id): (c.status, c.control.measures)
            for f in scoring.evaluate(scoring.period_for())
            for c in f.controls
        }

    before = statuses()
    assert {s for s, _ in before.values()} == {PASS} and len(before) == 27
    BREAKERS[broken](good_estate)
    for key, (status, measures) in statuses().items():
        assert status == (FAIL if broken in measures else PASS), key


def test_a_frameworks_score_counts_partial_as_half():
    counts = {PASS: 3, PARTIAL: 2, FAIL: 1, NONE: 4}
    assert scoring.score(counts) == 66.7
    assert scoring.control_status([]) == NONE
