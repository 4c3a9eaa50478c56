"""The functions the audit ledger's hook calls: critical, unaudited, and never raising."""

from dataclasses import dataclass

import pytest

from secrets_admin.alerts import audit_chain
from secrets_admin.alerts.models import Alert
from secrets_admin.audit.models import AuditEntry
from tests.alerts.conftest import deliver_due

pytestmark = pytest.mark.django_db


@dataclass
class Outcome:  # the shape of a failed verification, as the ledger reports it
    broken_at: int
    problem: str
    expected: str = ""
    found: str = ""


def test_a_broken_chain_pages_as_critical_without_writing_to_the_ledger(make_channel, pagerduty):
    from tests.alerts.conftest import ROUTING_KEY

    make_channel("pagerduty", secret=ROUTING_KEY, severities=["critical"])
    before = AuditEntry.objects.count()

    audit_chain.chain_broken(Outcome(42, "hash mismatch", "a" * 64, "b" * 64))
    audit_chain.chain_broken(Outcome(42, "hash mismatch", "a" * 64, "b" * 64))  # the next hourly run
    deliver_due()
    audit_chain.chain_intact()
    deliver_due()

    (alert,) = Alert.objects.filter(key="audit.chain_broken")
    assert (alert.severity, alert.raise_count, alert.state) == ("critical", 2, "resolved")
    assert alert.subject == "The audit chain is broken at entry #42: hash mismatch"
    assert alert.facts["expected"] == "a" * 64
    assert [r.json["event_action"] for r in pagerduty.requests] == ["trigger", "resolve"]
    assert AuditEntry.objects.count() == before


def test_a_stale_anchor_alerts_and_clears(make_channel):
    audit_chain.anchor_stale(age_seconds=600, where="secret/candlefish/audit-anchor")
    alert = Alert.objects.get(key="audit.anchor_stale")
    assert alert.subject == "The audit chain's anchor is 10 minutes old" and alert.severity == "critical"
    audit_chain.anchor_fresh()
    alert.refresh_from_db()
    assert alert.state == "resolved"


def test_the_hook_never_raises(caplog):
    audit_chain.chain_broken(Outcome(object(), "odd"))  # not JSON: raise_alert refuses it
    assert not Alert.objects.exists()
    assert "could not record the audit alert" in caplog.text
