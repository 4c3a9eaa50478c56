"""The audit page for an investigation: dropdowns of the values present, in words; each row one
sentence whose target links to the object; a person's filter finds every entry about them."""

import re

import pytest
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.test import Client

from secrets_admin.audit import actions, filters, sequencer, services, wording
from secrets_admin.audit.models import AuditEntry
from tests.accounts import conftest as accounts_fixtures
from tests.accounts.factories import PASSWORD, code_at_step
from tests.audit.conftest import THING_DONE

pytestmark = pytest.mark.django_db
person = accounts_fixtures.person  # people with devices and logged-in clients (tests/accounts)


def options(html, name):
    select = re.search(rf'<select name="{name}".*?</select>', html, re.S).group(0)
    return dict(re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select))


def test_dropdowns_list_the_values_present_in_words(person):
    _, _, frank = person("frank", "managers")
    alice, _, _ = person("alice", "developers", device=False)
    alice.first_name, alice.last_name = "Alice", "Developer"
    alice.save()
    with transaction.atomic():
        services.record(THING_DONE, actor=alice, target=Group.objects.get(name="cto"))
        services.record(THING_DONE, actor="celery:sync")
    html = frank.get("/audit/").content.decode()

    action = options(html, "action")
    present = set(AuditEntry.objects.values_list("action", flat=True))
    assert set(action) - {""} == present | {name.split(".")[0] + "." for name in present}
    assert action["test.thing.done"] == "A test did a thing (test.thing.done)"
    assert action["test."] == "Everything in test"
    assert "auth.login.failed" not in action  # registered, but not in this ledger

    actor = options(html, "actor")
    assert actor["alice"] == "alice — Alice Developer"
    assert actor["celery:sync"] == "the background task sync (celery:sync)"
    assert options(html, "target_type") == {"": "Anything", "auth.group": "Group (auth.group)"} | {
        label: f"{wording.target_type_words(label)} ({label})"
        for label in set(AuditEntry.objects.exclude(target_type="").values_list("target_type", flat=True))
    }
    assert options(html, "person")["alice"] == "alice — Alice Developer"


def test_the_present_values_come_from_a_loose_index_scan_equal_to_distinct():
    with transaction.atomic():
        for name in ("zed", "amy", "amy", "bob", "zed"):
            services.record(THING_DONE, actor=name)
    for column in ("actor_name", "action", "target_type"):
        expected = sorted(set(AuditEntry.objects.exclude(**{column: ""}).values_list(column, flat=True)))
        assert filters.present_values(column) == expected, (column, connection.vendor)
    with pytest.raises(ValueError):
        filters.present_values("data")


def test_each_row_reads_as_a_sentence_whose_target_links_to_the_object(person):
    from secrets_admin.inventory.models import Secret, SyncRun

    carol, device, client = person("carol", "security-team")
    alice, _, _ = person("alice", "developers", device=False)
    data = {"user": alice.pk, "group": "cto", "change": "add", "otp_code": code_at_step(device, 0)}
    assert client.post("/accounts/members/", data).status_code == 302
    secret = Secret.objects.create(backend="vault", path="secret/app/db", kind="api_key")
    run = SyncRun.objects.create(backend="vault", state="succeeded")
    with transaction.atomic():
        services.record("inventory.secret.updated", actor=carol, target=secret, data={"changes": {}})
        services.record("inventory.sync.finished", actor="celery:sync", target=run, data=run.progress())
        services.record("mfa.device.added", actor=carol, target=device, data={"name": device.name})
    html = client.get("/audit/").content.decode()
    rows = re.findall(r'<td class="cf-sentence">(.*?) <span', html)
    assert 'Carol added <a href="/audit/?person=alice">alice</a> to cto.' not in rows  # names keep their case
    assert 'carol added <a href="/audit/?person=alice">alice</a> to cto.' in rows
    assert f'carol edited the metadata of <a href="/inventory/{secret.pk}/">vault:secret/app/db</a>.' in rows
    assert any(
        row.startswith(f'The background task sync finished <a href="/inventory/runs/{run.pk}/">')
        for row in rows
    )
    device_link = f"/audit/?target_type=accounts.authenticatordevice&amp;target_id={device.pk}"
    assert f'carol set up <a href="{device_link}">' in html
    assert "carol confirmed group.member.added:" in html  # the step-up that authorised it


def test_a_failed_login_naming_an_account_is_found_by_that_persons_filter(person):
    carol, device, carol_client = person("carol", "security-team")
    alice, _, _ = person("alice", "developers", device=False)
    person("bob", "developers", device=False)
    anonymous = Client(REMOTE_ADDR="198.51.100.23")
    anonymous.post("/accounts/login/", {"login": "Alice", "password": "not-it"})
    anonymous.post("/accounts/login/", {"login": "bob", "password": "not-it"})
    carol_client.post(
        "/accounts/members/",
        {"user": alice.pk, "group": "cto", "change": "add", "otp_code": code_at_step(device, 0)},
    )
    Client().post("/accounts/login/", {"login": "alice", "password": PASSWORD})  # alice logs in herself
    sequencer.link()  # (the test's transaction never commits, so no writer linked after commit)

    response = carol_client.get("/audit/?person=alice")
    found = [(e.action, e.actor_name) for e in response.context["page"]]
    assert ("auth.login.failed", "anonymous") in found
    assert ("group.member.added", "carol") in found
    assert ("auth.login.succeeded", "alice") in found
    assert all("bob" not in (e.target_repr, e.actor_name) for e in response.context["page"])
    failed = next(e for e in response.context["page"] if e.action == "auth.login.failed")
    assert failed.ip == "198.51.100.23" and failed.data == {"subject": "unverified"}
    html = response.content.decode()
    assert 'Someone from 198.51.100.23 failed to log in as <a href="/audit/?person=alice">alice</a>' in html
    detail = carol_client.get(f"/audit/{failed.sequence}/").content.decode()
    assert "unverified" in detail and "nobody proved they are this person" in detail


def test_guesses_of_one_unknown_name_group_by_their_hash(person):
    _, _, client = person("carol", "security-team")
    guesser = Client(REMOTE_ADDR="198.51.100.24")
    for typed in ("hunter2-secret", "HUNTER2-secret", "other-name"):
        guesser.post("/accounts/login/", {"login": typed, "password": "x"})
    sequencer.link()
    first = AuditEntry.objects.filter(action="auth.login.failed").order_by("sequence").first()
    detail = client.get(f"/audit/{first.sequence}/").content.decode()
    link = re.search(r'href="(/audit/\?login_hash=[0-9a-f]+)"', detail).group(1)
    grouped = client.get(link).context["page"]
    assert [e.data["login_hash"] for e in grouped] == [first.data["login_hash"]] * 2
    assert "hunter2" not in client.get("/audit/").content.decode().lower()


def test_an_entry_without_the_words_its_sentence_needs_falls_back_to_its_description():
    with transaction.atomic():
        old = services.record("group.member.added", actor="carol", data={})  # no group, no target
        plain = services.record(THING_DONE, actor=None)
    assert str(wording.sentence(old)) == "carol: A security-team member added a user to a group."
    assert str(wording.sentence(plain)) == "The console: A test did a thing."
    assert actions.sentence_for(THING_DONE) is None


def test_a_target_whose_page_needs_a_related_row_links_to_its_entries():
    """A review's page is its grant's request: the stand-in without a grant cannot tell, so the
    row links to every entry about the review instead of failing the whole page."""
    entry = AuditEntry(
        action=THING_DONE, actor_name="carol", data={},
        target_type="breakglass.incidentreview", target_id="7", target_repr="review #7",
    )  # fmt: skip
    assert wording.target_url(entry) == "/audit/?target_type=breakglass.incidentreview&target_id=7"
    assert 'href="/audit/?target_type=breakglass.incidentreview' in str(wording.sentence(entry))
