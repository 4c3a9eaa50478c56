"""Graceful against OpenBao PKI: a replacement issued before expiry, both listed, nothing revoked."""

import uuid

import pytest

from secrets_admin.backends import get_backend
from secrets_admin.backends import vault_engines as engines
from secrets_admin.backends.base import RemoteSecret
from secrets_admin.rotation.services import engine, start_run
from secrets_admin.rotation.strategies import StepContext, get_strategy

pytestmark = pytest.mark.django_db


@pytest.fixture
def certificate(make_secret, servers):
    """certificate(ttl) -> inventory Secret of a fresh leaf certificate in OpenBao PKI."""

    def issue(ttl="480h", backdated=None):
        """backdated="1680h": issued that long ago (a role of its own), so it lives longer."""
        vault = get_backend("vault")
        cn = f"svc-{uuid.uuid4().hex[:6]}.payments.internal"
        body = {"common_name": cn, "ttl": ttl, "alt_names": f"www.{cn}"}
        role = "candlefish"
        if backdated:
            role = "candlefish-test-backdated"
            rule = {"allow_any_name": True, "max_ttl": "8760h", "key_type": "ec", "key_bits": 256,
                    "not_before_duration": backdated}  # fmt: skip
            vault._call("POST", f"pki/roles/{role}", "write the backdated role", json=rule)
        serial = vault._call("POST", f"pki/issue/{role}", "issue", json=body)["data"]["serial_number"]
        facts = engines.certificate_facts(vault, serial)
        return make_secret(
            f"pki/cert/{serial}", kind="certificate", name=cn, expires_at=facts["not_after"],
            details={"serial": serial, "is_ca": False, "revoked": False},
        )  # fmt: skip

    return issue


def pki_serials() -> dict[str, str]:
    return {
        item.details["serial"]: item.name
        for item in get_backend("vault").walk_pki()
        if isinstance(item, RemoteSecret)
    }


def test_a_certificate_near_expiry_gets_a_replacement_and_both_stay_listed(certificate):
    secret = certificate("480h")  # 20 days: inside the default 30-day lead
    old_serial = secret.details["serial"]
    run = start_run(secret, actor="test", reason="schedule")
    assert run.strategy == "graceful"
    assert engine.advance(run.pk)["state"] == "finished"
    run.refresh_from_db()
    vault = get_backend("vault")
    new_serial = run.new_version_id
    old, new = engines.certificate_facts(vault, old_serial), engines.certificate_facts(vault, new_serial)
    assert new_serial != old_serial and new["common_name"] == old["common_name"] == secret.name
    assert f"www.{secret.name}" in new["dns_names"] and new["not_after"] > old["not_after"]
    assert engines.signed_by_issuer(vault, new_serial)
    listed = pki_serials()
    assert listed[old_serial] == listed[new_serial] == secret.name, "both are listed"
    assert not engines.certificate_revoked(vault, old_serial), "the old one runs out by itself"
    assert run.state_data["old_serial"] == old_serial and "PRIVATE KEY" not in str(run.state_data)


def test_create_run_twice_issues_one_replacement(certificate):
    secret = certificate("240h")
    run = start_run(secret, actor="test", reason="cli")
    vault = get_backend("vault")
    strategy = get_strategy("graceful")
    ctx = StepContext(run=run, secret=secret, backend=vault, token=run.token, state={})
    strategy.create(ctx)
    first = ctx.state["new_serial"]
    fresh = StepContext(run=run, secret=secret, backend=vault, token=run.token, state={})  # state lost
    strategy.create(fresh)
    assert fresh.state["new_serial"] == first
    assert sum(1 for name in pki_serials().values() if name == secret.name) == 2


def test_a_revoked_or_ca_certificate_is_not_renewed(certificate, make_secret):
    graceful = get_strategy("graceful")
    assert "revoked" in graceful.applies_to(
        make_secret("pki/cert/01", kind="certificate", details={"revoked": True})
    )
    assert "CA certificate" in graceful.applies_to(
        make_secret("pki/cert/02", kind="certificate", details={"is_ca": True})
    )
    assert "renews certificates" in graceful.applies_to(make_secret("secret/pw"))


def test_a_renewed_certificate_is_not_renewed_again(certificate, make_secret):
    from datetime import timedelta

    from secrets_admin.rotation.services.runs import PolicyForbids

    secret = certificate("480h")
    run = start_run(secret, actor="test", reason="schedule")
    engine.advance(run.pk)
    with pytest.raises(PolicyForbids, match="renewed already"):
        start_run(secret, actor="test", reason="schedule")  # the old one stays due until it expires
    other = certificate("480h")
    make_secret(
        "pki/cert/later", kind="certificate", name=other.name, expires_at=other.expires_at + timedelta(days=9)
    )
    assert "renewed already by pki/cert/later" in get_strategy("graceful").applies_to(other)


def test_a_certificate_shorter_lived_than_its_lead_waits_for_the_last_third_of_its_life(make_secret):
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    young = make_secret("pki/cert/young", kind="certificate", name="young.internal",
                        created_at=now - timedelta(days=1), expires_at=now + timedelta(days=3))  # fmt: skip
    old = make_secret("pki/cert/old", kind="certificate", name="old.internal",
                      created_at=now - timedelta(days=3), expires_at=now + timedelta(days=1))  # fmt: skip
    assert "a third of its life is left" in get_strategy("graceful").applies_to(young)
    assert get_strategy("graceful").applies_to(old) is None


def test_a_renewed_certificate_is_due_when_its_replacement_is_and_raises_no_missed_alert(certificate):
    """The old certificate stays listed until it expires; its due date follows the replacement,
    so the missed-rotation detector does not alert on a certificate that was renewed."""
    from datetime import UTC, datetime, timedelta

    from secrets_admin.alerts.models import Alert
    from secrets_admin.inventory.models import Secret
    from secrets_admin.inventory.services import status
    from secrets_admin.rotation.services import scheduler

    secret = certificate("480h", backdated="1680h")  # 90 days of life, 20 left: 10 past its lead
    status.refresh(secret)
    secret.save()
    assert secret.status == "overdue"
    later = datetime.now(UTC) + timedelta(hours=2)
    assert scheduler.detect_missed(later)["critical"] == 1  # before the renewal: missed, rightly
    run = start_run(secret, actor="test", reason="schedule")
    assert engine.advance(run.pk)["state"] == "finished"
    run.refresh_from_db()
    replacement = engines.certificate_facts(get_backend("vault"), run.new_version_id)
    assert run.state_data["new_not_after"] == replacement["not_after"].isoformat()

    secret = Secret.objects.get(pk=secret.pk)
    assert secret.next_due == replacement["not_after"] - timedelta(days=30)
    assert secret.status == "ok" and secret.expires_at < replacement["not_after"]
    assert scheduler.detect_missed(later) == {"warning": 0, "critical": 0}
    assert not Alert.objects.filter(key=scheduler.missed_key(secret), state=Alert.State.OPEN).exists()
    # The periodic recompute (SQL) and a sync-style refresh (Python) keep that due date.
    status.refresh_all()
    assert Secret.objects.get(pk=secret.pk).next_due == secret.next_due
    assert status.refresh(secret) is False
