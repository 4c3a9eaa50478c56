"""Sealing keys (the backup reminder until confirmed) and re-seal campaigns, through the services
and the page: state asserted in the database, the alerts table and the ledger."""

import threading

import pytest
from django.db import connection

from secrets_admin.accounts.stepup import StepUpFailed
from secrets_admin.alerts.models import Alert
from secrets_admin.audit.models import AuditEntry
from secrets_admin.inventory.models import Secret
from secrets_admin.inventory.services.sync import sync_backend
from secrets_admin.roles import DEVELOPERS, SECURITY_TEAM
from secrets_admin.rotation.models import RotationRun
from secrets_admin.sealed import services
from secrets_admin.sealed.models import ResealCampaign, SealingKey
from tests.inventory.conftest import code
from tests.markers import requires_postgres


@pytest.fixture
def estate(sealed_backend, sealing_configured, db):
    """Two manifests on the old certificate, one on the current one, synced into the inventory."""
    clone = sealed_backend
    paths = {
        "old-a": clone.add("a.yaml", "a", values={"v": "1"}, cert="old"),
        "old-b": clone.add("b.yaml", "b", values={"v": "1"}, cert="old"),
        "current": clone.add("c.yaml", "c", values={"v": "1"}, cert="current"),
    }
    sync_backend("gitops", actor=None)
    Secret.objects.filter(backend="gitops").update(kind="api_key")
    return paths


def test_each_new_key_is_noted_once_and_reminded_until_confirmed(sealing_configured, db, person, totp_for):
    first = services.check_sealing_keys()
    assert len(first["seen"]) == 2 and len(first["reminded"]) == 2
    again = services.check_sealing_keys()
    assert again["seen"] == [] and len(again["reminded"]) == 2
    assert AuditEntry.objects.filter(action="sealed.key.seen").count() == 2
    key = SealingKey.objects.get(fingerprint=sealing_configured["current"].fingerprint)
    assert Alert.objects.filter(key=key.alert_key, state="open", event="sealed.key_backup").count() == 1

    carol = person("carol", SECURITY_TEAM)
    totp = totp_for(carol)
    with pytest.raises(StepUpFailed):
        services.do_confirm_key_backup(key.pk, actor=carol, code="000000")
    key.refresh_from_db()
    assert key.backed_up_at is None
    services.do_confirm_key_backup(key.pk, actor=carol, code=code(totp))
    key.refresh_from_db()
    assert key.backed_up_by == "carol" and key.backed_up_at is not None
    assert Alert.objects.get(key=key.alert_key).state == "resolved"
    assert services.check_sealing_keys()["reminded"] == [sealing_configured["old"].fingerprint]
    assert Alert.objects.filter(key=key.alert_key, state="open").count() == 0


def test_a_campaign_starts_one_reseal_run_per_manifest_on_an_old_certificate(estate, person, totp_for):
    carol = person("carol", SECURITY_TEAM)
    busy = Secret.objects.get(path=estate["old-b"])
    RotationRun.objects.create(secret=busy, strategy="reseal", reason="cli")  # already being rotated
    campaign = services.do_start_reseal_campaign(actor=carol, code=code(totp_for(carol)))
    assert campaign.wanted == 2 and AuditEntry.objects.filter(action="sealed.campaign.started").count() == 1
    campaign = services.launch_campaign(campaign.pk)
    runs = RotationRun.objects.filter(pk__in=campaign.started_runs)
    assert [(r.secret.path, r.strategy, r.reason) for r in runs] == [(estate["old-a"], "reseal", "campaign")]
    assert [r["path"] for r in campaign.refused] == [estate["old-b"]] and "already" in campaign.refused[0][
        "reason"
    ]
    assert services.launch_campaign(campaign.pk).started_runs == campaign.started_runs  # launched once
    assert RotationRun.objects.filter(reason="campaign").count() == 1


def test_a_wrong_code_starts_nothing(estate, person, totp_for):
    carol = person("carol", SECURITY_TEAM)
    totp_for(carol)
    with pytest.raises(StepUpFailed):
        services.do_start_reseal_campaign(actor=carol, code="123456")
    assert not ResealCampaign.objects.exists() and not AuditEntry.objects.filter(
        action="sealed.campaign.started"
    )


def test_the_page_groups_manifests_by_certificate_and_the_button_needs_a_code(
    estate, person, client_for, totp_for
):
    alice = person("alice", DEVELOPERS)
    page = client_for(alice).get("/sealed/")
    text = page.content.decode()
    assert page.status_code == 200 and 'data-status="old"' in text and estate["old-a"] in text
    assert "Start re-seal campaign" not in text  # the security team's button
    carol = person("carol", SECURITY_TEAM)
    totp = totp_for(carol)
    client = client_for(carol)
    done = client.post("/sealed/campaign/", {"otp_code": code(totp)})
    assert done.status_code == 302 and ResealCampaign.objects.get().wanted == 2
    refused = client.post("/sealed/campaign/", {"otp_code": "111111"})
    assert refused.status_code == 400 and "otp_code_error" in refused.content.decode()
    assert ResealCampaign.objects.count() == 1


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_two_people_confirming_one_backup_at_once_make_one_entry(sealing_configured, person, totp_for):
    services.check_sealing_keys()
    key = SealingKey.objects.first()
    people = [(p, totp_for(p)) for p in (person("carol", SECURITY_TEAM), person("dave", SECURITY_TEAM))]
    barrier, errors = threading.Barrier(2), []

    def confirm(user, totp):
        try:
            barrier.wait()
            services.do_confirm_key_backup(key.pk, actor=user, code=code(totp))
        except Exception as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=confirm, args=pair) for pair in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert AuditEntry.objects.filter(action="sealed.key.backed_up").count() == 1
