"""The compliance pages: who may see them, scores, controls, the drill-down, bad periods,
and the overview's panel."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.accounts.factories import verified_client
from tests.compliance.conftest import person, secret

pytestmark = pytest.mark.django_db


def test_index_lists_the_frameworks_with_scores(manager_client):
    secret("secret/app/late", status="overdue")
    secret("secret/app/fine")
    page = manager_client.get("/compliance/").content.decode()
    for name in ("SOC 2", "ISO/IEC 27001", "GDPR", "HIPAA Security Rule", "PCI DSS"):
        assert name in page
    assert 'id="framework-soc2"' in page and "Export evidence" in page


def test_framework_page_shows_each_control_and_links_its_drill_down(manager_client):
    late = secret("secret/app/late", status="overdue")
    page = manager_client.get("/compliance/iso27001/").content.decode()
    assert 'id="control-a-5-17" data-status="fail"' in page
    assert "/compliance/iso27001/a-5-17/" in page
    drill = manager_client.get("/compliance/iso27001/a-5-17/").content.decode()
    assert f'href="/inventory/{late.pk}/"' in drill and "vault:secret/app/late" in drill
    assert 'href="/inventory/?status=overdue"' in drill


def test_unknown_framework_or_control_is_404(manager_client):
    assert manager_client.get("/compliance/sox/").status_code == 404
    assert manager_client.get("/compliance/soc2/cc9-9/").status_code == 404


@pytest.mark.parametrize("days", ["0", "abc", "400", "-1"])
def test_a_bad_period_is_a_clear_400(manager_client, days):
    response = manager_client.get(f"/compliance/soc2/?days={days}")
    assert response.status_code == 400
    assert "The period is not valid" in response.content.decode()


def test_developers_may_not_see_compliance(db):
    user, device = person("alice", "developers")
    assert verified_client(user, device).get("/compliance/").status_code == 403


def test_the_overview_shows_the_compliance_panel_to_managers_only(manager_client):
    secret("pki/cert/1", kind="certificate", name="x", expires_at=timezone.now() + timedelta(days=2))
    page = manager_client.get("/").content.decode()
    assert 'id="panel-compliance"' in page and "Compliance by framework" in page
    user, device = person("alice", "developers")
    assert 'id="panel-compliance"' not in verified_client(user, device).get("/").content.decode()
