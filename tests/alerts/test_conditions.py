"""The conditions this app watches itself, against real servers: certificates issued by
OpenBao's PKI and synced into the inventory, and backends that are down or sealed."""

import re
import time
import uuid
from datetime import timedelta

import hvac
import pytest
from django.utils import timezone

from console.stack.servers import OpenBao, free_port
from secrets_admin.alerts import conditions, events
from secrets_admin.alerts.models import Alert
from secrets_admin.inventory.models import Secret
from secrets_admin.inventory.services.sync import sync_backend

pytestmark = pytest.mark.django_db


@pytest.fixture
def pki(settings, openbao):
    """A backend "alertpki" walking OpenBao's PKI; issue(cn, hours) -> serial."""
    settings.SECRET_BACKENDS = {
        **settings.SECRET_BACKENDS,
        "alertpki": {
            **settings.SECRET_BACKENDS["vault"],
            "url": openbao.url,
            "token": openbao.token,
            "engines": "pki",
        },
    }
    client = hvac.Client(url=openbao.url, token=openbao.token)

    def issue(common_name: str, hours: int) -> str:
        data = client.secrets.pki.generate_certificate(
            "candlefish", common_name, extra_params={"ttl": f"{hours}h"}, mount_point="pki"
        )["data"]
        return data["serial_number"]

    issue.client = client
    return issue


def cert_alert(serial):
    secret = Secret.objects.get(backend="alertpki", path=f"pki/cert/{serial}")
    return Alert.objects.filter(key=f"certificate.expiring:inventory.secret:{secret.pk}").first()


def test_certificates_close_to_expiry_alert_by_severity_and_resolve_when_renewed(pki, make_channel):
    make_channel("email", config={"addresses": ["a@candlefish.example"]})
    name = f"{uuid.uuid4().hex[:8]}.alerts-test.example"
    soon = pki(f"soon.{name}", 5 * 24)
    later = pki(f"later.{name}", 20 * 24)
    fine = pki(f"fine.{name}", 60 * 24)
    sync_backend("alertpki", actor="test")

    result = conditions.check_certificates()

    critical, warning = cert_alert(soon), cert_alert(later)
    assert cert_alert(fine) is None
    assert (critical.severity, warning.severity) == ("critical", "warning")
    assert re.fullmatch(rf"Certificate soon\.{name} in alertpki expires in [45] days", critical.subject)
    assert critical.facts["serial"] == soon and critical.facts["days_left"] in (4, 5)
    assert critical.deliveries.count() == 1
    assert {critical.target_id, warning.target_id} <= {str(pk) for pk in result["raised"]}

    # Fourteen days on, the 20-day certificate is inside the 7 days: the open alert escalates.
    conditions.check_certificates(now=timezone.now() + timedelta(days=14))
    warning.refresh_from_db()
    assert warning.severity == "critical" and warning.deliveries.filter(escalated=True).count() == 1

    # Renewed: a new certificate for the same name that outlives the window. Revoked: no renewal needed.
    pki(f"later.{name}", 90 * 24)
    pki.client.secrets.pki.revoke_certificate(soon, mount_point="pki")
    sync_backend("alertpki", actor="test")
    conditions.check_certificates()

    critical.refresh_from_db()
    warning.refresh_from_db()
    assert (critical.state, warning.state) == ("resolved", "resolved")


def test_a_certificate_that_vanished_from_its_backend_resolves_its_alert(pki, make_channel):
    serial = pki(f"{uuid.uuid4().hex[:8]}.gone.alerts-test.example", 48)
    sync_backend("alertpki", actor="test")
    conditions.check_certificates()
    alert = cert_alert(serial)
    assert alert.state == "open"

    Secret.objects.filter(backend="alertpki", path=f"pki/cert/{serial}").update(
        missing_since=timezone.now(), status="missing"
    )
    conditions.check_certificates()
    alert.refresh_from_db()
    assert alert.state == "resolved"


@pytest.fixture
def quick_recheck(monkeypatch):
    monkeypatch.setattr(conditions, "PROBE_RECHECK_SECONDS", 0.1)


def test_an_unreachable_backend_raises_a_critical_alert_and_resolves_when_back(
    settings, make_channel, quick_recheck
):
    make_channel("email", config={"addresses": ["a@candlefish.example"]})
    working = settings.SECRET_BACKENDS
    settings.SECRET_BACKENDS = {
        **working,
        "vault": {**working["vault"], "url": f"http://127.0.0.1:{free_port()}"},
    }

    assert conditions.check_backends() == {"vault": False, "aws": True}
    alert = Alert.objects.get(key="backend.unavailable:vault")
    assert (alert.event, alert.severity, alert.subject) == (
        events.BACKEND_UNAVAILABLE,
        "critical",
        "Secret backend vault is unreachable",
    )
    assert alert.facts["state"] == "unreachable" and alert.deliveries.count() == 1
    conditions.check_backends()
    alert.refresh_from_db()
    assert alert.raise_count == 2 and alert.deliveries.count() == 1  # still down: no second message

    settings.SECRET_BACKENDS = working
    assert conditions.check_backends() == {"vault": True, "aws": True}
    alert.refresh_from_db()
    assert alert.state == "resolved"


def test_a_sealed_openbao_is_named_as_sealed_and_resolves_when_unsealed(
    settings, tmp_path, make_channel, quick_recheck
):
    bao = OpenBao(tmp_path / "sealed", token="sealed-root").start().wait_ready()
    try:
        client = hvac.Client(url=bao.url, token=bao.token)
        deadline = time.monotonic() + 10
        while "Unseal Key:" not in (log := (tmp_path / "sealed" / "openbao.log").read_text()):
            assert time.monotonic() < deadline, "the dev server never printed its unseal key"
            time.sleep(0.1)
        unseal_key = re.search(r"Unseal Key: (\S+)", log).group(1)
        settings.SECRET_BACKENDS = {
            **settings.SECRET_BACKENDS,
            "vault": {**settings.SECRET_BACKENDS["vault"], "url": bao.url, "token": bao.token},
        }
        client.sys.seal()

        assert conditions.check_backends()["vault"] is False
        alert = Alert.objects.get(key="backend.unavailable:vault")
        assert alert.subject == "Secret backend vault is sealed" and "sealed" in alert.facts["error"]

        client.sys.submit_unseal_key(unseal_key)
        assert conditions.check_backends()["vault"] is True
        alert.refresh_from_db()
        assert alert.state == "resolved"
    finally:
        bao.stop()
