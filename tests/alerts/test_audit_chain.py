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


def test_the_ledgers_hook_raises_and_clears_real_alerts():
    """The ledger's own hook (not these functions directly) opens and resolves the alerts."""
    from secrets_admin.audit import chain, services

    services.raise_chain_alert(chain.Outcome(ok=False, kind="anchor_stale", problem="never", extra={}))
    services.raise_chain_alert(
        chain.Outcome(
            ok=False, kind="unlinked", problem="waiting", extra={"pending": 3, "oldest_seconds": 75}
        )
    )
    services.raise_chain_alert(chain.Outcome().fail(7, "entry #7 was altered"))
    alerts = {a.key: a for a in Alert.objects.all()}
    assert (
        alerts["audit.anchor_stale"].subject == "The audit chain has never been anchored outside the database"
    )
    assert alerts["audit.unlinked"].subject == "3 audit entries have waited 75 s for the sequencer"
    assert alerts["audit.chain_broken"].facts["broken_at"] == 7
    assert {a.severity for a in alerts.values()} == {"critical"}

    for kind in ("break", "anchor_stale", "unlinked"):
        services.clear_chain_alert(kind)
    assert set(Alert.objects.values_list("state", flat=True)) == {"resolved"}


def test_a_tampered_chain_found_by_verify_opens_the_alert():
    from secrets_admin.audit.verification import verify
    from tests.audit.conftest import tamper, write

    write(3)
    verify(full=True)
    tamper("UPDATE audit_auditentry SET ip = '10.0.0.9' WHERE sequence = 2")
    verify(full=True)
    alert = Alert.objects.get(key="audit.chain_broken")
    assert (alert.state, alert.facts["broken_at"]) == ("open", 2)
