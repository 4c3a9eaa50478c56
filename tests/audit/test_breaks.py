"""A known break stays shown (audit page, every page's banner, /readyz) until a security-team
member acknowledges it with a one-time code; then verification steps over exactly that break."""

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError

from secrets_admin.accounts.stepup import StepUpFailed
from secrets_admin.audit import anchors, breaks, chain, services
from secrets_admin.audit.models import AuditEntry, BreakAcknowledgement
from secrets_admin.audit.status import chain_status
from secrets_admin.audit.verification import verify
from tests.accounts.factories import code_at_step, make_device, verified_client
from tests.audit.conftest import tamper, write
from tests.audit.test_verify import rewrite_everything

NOTE = "Restored from backup; row 2 edited by the migration script (INC-42)."


@pytest.fixture
def carol(make_user):
    user = make_user("carol")
    user.groups.add(Group.objects.get(name="security-team"))
    return user, make_device(user)


def broken_at_2():
    write(5)
    verify()
    tamper("UPDATE audit_auditentry SET actor_name = 'mallory' WHERE sequence = 2")
    outcome = verify(full=True)
    assert (outcome.ok, outcome.broken_at) == (False, 2)
    return breaks.open_breaks()[0]


@pytest.mark.django_db
def test_acknowledging_with_a_code_is_audited_and_later_runs_step_over_that_break_only(carol, monkeypatch):
    cleared = []
    monkeypatch.setattr(services, "clear_chain_alert", cleared.append)
    user, device = carol
    checkpoint = broken_at_2()
    assert chain_status().state == "broken"

    ack = breaks.do_acknowledge_break(checkpoint.pk, actor=user, otp=code_at_step(device, 0), note=NOTE)
    assert (ack.fingerprint, ack.actor_name, ack.note) == (checkpoint.fingerprint, "carol", NOTE)
    entry = AuditEntry.objects.get(action="audit.break.acknowledged")
    assert entry.actor_id == user.pk and entry.data["broken_at"] == 2 and entry.data["note"] == NOTE
    assert chain_status().state == "intact" and breaks.open_breaks() == []
    assert cleared == ["break"]

    outcome = verify(full=True)
    assert outcome.ok and outcome.stepped_over == [checkpoint.fingerprint] and outcome.last >= 5
    tamper("UPDATE audit_auditentry SET ip = '10.9.9.9' WHERE sequence = 4")  # a new break elsewhere
    outcome = verify(full=True)
    assert (outcome.ok, outcome.broken_at) == (False, 4)
    assert [b.broken_at for b in chain_status().open_breaks] == [4]


@pytest.mark.django_db
def test_only_the_security_team_acknowledges_with_a_fresh_code_and_a_note(carol, make_user, settings):
    settings.OTP_THROTTLE_FACTOR = 0
    user, device = carol
    checkpoint = broken_at_2()
    alice = make_user("alice")
    alice.groups.add(Group.objects.get(name="cto"))
    with pytest.raises(PermissionDenied):
        breaks.do_acknowledge_break(checkpoint.pk, actor=alice, otp="123456", note=NOTE)
    with pytest.raises(ValidationError, match="at least 10"):
        breaks.do_acknowledge_break(checkpoint.pk, actor=user, otp=code_at_step(device, 0), note="ok")
    with pytest.raises(StepUpFailed):
        breaks.do_acknowledge_break(checkpoint.pk, actor=user, otp="000000", note=NOTE)
    assert not BreakAcknowledgement.objects.exists() and chain_status().state == "broken"
    breaks.do_acknowledge_break(checkpoint.pk, actor=user, otp=code_at_step(device, 0), note=NOTE)
    with pytest.raises(ValidationError, match="already acknowledged"):
        breaks.do_acknowledge_break(checkpoint.pk, actor=user, otp=code_at_step(device, 1), note=NOTE)


@pytest.mark.django_db
def test_an_acknowledged_rewrite_is_verified_in_full_and_anchored_anew(carol):
    user, device = carol
    write(4)
    verify()
    rewrite_everything()
    assert verify().kind == "anchor"
    (checkpoint,) = breaks.open_breaks()
    breaks.do_acknowledge_break(checkpoint.pk, actor=user, otp=code_at_step(device, 0), note=NOTE)

    outcome = verify()
    assert outcome.ok and outcome.extra["full"] and "acknowledged as wrong" in outcome.extra["anchor"]
    assert anchors.latest().hash == AuditEntry.objects.get(sequence=outcome.last).hash
    assert verify().ok and not verify().extra["full"]  # back to incremental runs from the new anchor


@pytest.mark.django_db
def test_the_page_shows_the_break_until_acknowledged_through_its_form(carol, make_user, settings):
    settings.OTP_THROTTLE_FACTOR = 0  # no back-off after the wrong code below
    user, device = carol
    checkpoint = broken_at_2()
    client = verified_client(user, device)
    page = client.get("/audit/").content.decode()
    assert "broken at entry #2" in page and f"/audit/breaks/{checkpoint.pk}/acknowledge/" in page
    assert "Audit ledger alarm" in client.get("/").content.decode()  # the banner, on every page

    url = f"/audit/breaks/{checkpoint.pk}/acknowledge/"
    response = client.post(url, {"note": NOTE, "otp_code": "000000"})
    assert response.status_code == 400 and "That code is not right" in response.content.decode()
    response = client.post(url, {"note": NOTE, "otp_code": code_at_step(device, 0)})
    assert response.status_code == 302
    assert BreakAcknowledgement.objects.get().actor_name == "carol"
    assert "broken at entry" not in client.get("/audit/").content.decode()
    assert "Audit ledger alarm" not in client.get("/").content.decode()

    manager = make_user("frank")
    manager.groups.add(Group.objects.get(name="managers"))
    assert "Audit ledger alarm" not in verified_client(manager).get("/").content.decode()


@pytest.mark.django_db
def test_readyz_shows_an_open_break_to_the_security_team_and_stays_ready(carol, client):
    user, device = carol
    broken_at_2()
    response = verified_client(user, device).get("/readyz")
    assert response.status_code == 200 and "audit" not in response.json()["checks"]
    audit = response.json()["detail"]["audit"]
    assert audit["chain"] == "broken at #2 (unacknowledged)"
    assert audit["breaks"] == ["#2: entry #2 was altered: its content does not match its hash"]
    assert client.get("/readyz").json() == {"status": "ready"}  # the world learns nothing more


def test_fingerprints_name_one_break_stably():
    outcome = chain.Outcome().fail(3, "x", "a" * 64, "b" * 64, kind="link")
    assert outcome.fingerprint == f"link:3:{'b' * 64}"
