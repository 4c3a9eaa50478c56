"""The audit page and its exports: access, filters, bounded paging, chain badge, streamed exports."""

import csv
import io
import json

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth.models import Group
from django.db import transaction
from django.test import AsyncClient, Client

from secrets_admin.audit import actions, chain, sequencer, services, views
from secrets_admin.audit.models import AuditEntry
from secrets_admin.audit.verification import verify
from tests.audit.conftest import THING_DONE, THING_UNDONE, tamper


@pytest.fixture
def member(make_user):
    """member("carol", "security-team") -> (user, logged-in Client)."""

    def make(username, *groups):
        user = make_user(username)
        for name in groups:
            user.groups.add(Group.objects.get_or_create(name=name)[0])  # flushed by transactional tests
        client = Client()
        client.force_login(user)
        return user, client

    return make


def write(*specs, link=True):
    """specs: (action, actor, data) tuples, recorded in one transaction, in order, then linked."""
    with transaction.atomic():
        entries = [services.record(action, actor=actor, data=data) for action, actor, data in specs]
    if link:
        sequencer.link()
        for entry in entries:
            entry.refresh_from_db()
    return entries


def fetch_stream(user, url):
    """GET through the ASGI handler (as Daphne serves it); returns (response, body, chunk count)."""
    client = AsyncClient()
    client.force_login(user)

    async def get():
        response = await client.get(url)
        chunks = [chunk async for chunk in response.streaming_content]
        return response, b"".join(chunks), len(chunks)

    return async_to_sync(get)()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "group, status", [("security-team", 200), ("cto", 200), ("managers", 200), ("developers", 403)]
)
def test_the_page_and_entries_are_for_security_cto_and_managers(member, group, status):
    (entry,) = write((THING_DONE, None, {}))
    _, client = member("someone", group)
    assert client.get("/audit/").status_code == status
    assert client.get(f"/audit/{entry.sequence}/").status_code == status
    assert client.get("/audit/export.csv").status_code == status
    exported = AuditEntry.objects.filter(action=actions.EXPORTED).count()
    assert exported == (1 if status == 200 else 0)


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_log_in():
    response = Client().get("/audit/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert Client().get("/audit/export.json").status_code == 302
    assert not AuditEntry.objects.exists()


@pytest.mark.django_db
def test_filters_narrow_the_list(member):
    _, client = member("frank", "managers")
    alice, _ = member("alice", "developers")
    write((THING_DONE, alice, {}), (THING_UNDONE, alice, {}), (THING_DONE, "celery:sync", {}))
    group = Group.objects.get(name="cto")
    with transaction.atomic():
        services.record(THING_UNDONE, actor=None, target=group, request=None)
    sequencer.link()

    def sequences(query):
        response = client.get("/audit/" + query)
        assert response.status_code == 200
        return [e.sequence for e in response.context["page"]]

    mine = list(AuditEntry.objects.filter(action__startswith="test.").values_list("sequence", flat=True))
    first, second, third, fourth = sorted(mine)
    assert sequences("?action=test.") == [fourth, third, second, first]
    assert sequences("?action=test.*") == [fourth, third, second, first]
    assert sequences("?action=test.&actor=alice") == [second, first]
    assert sequences("?action=test.thing.undone") == [fourth, second]
    assert sequences("?action=test.thing") == []  # exact unless it ends with "." or "*"
    assert sequences(f"?target_type=auth.group&target_id={group.pk}") == [fourth]
    today = AuditEntry.objects.get(sequence=first).created_at.date()
    assert sequences(f"?action=test.&since={today}&until={today}") == [fourth, third, second, first]
    assert sequences(f"?until={today.replace(year=today.year - 1)}") == []


@pytest.mark.django_db
def test_a_malformed_filter_shows_an_error_and_an_export_is_refused(member):
    _, client = member("carol", "security-team")
    write((THING_DONE, None, {}))
    response = client.get("/audit/?since=yesterday")
    assert response.status_code == 200 and response.context["page"] is None
    assert "Enter a valid date" in response.content.decode()
    response = client.get("/audit/export.csv?since=yesterday")
    assert response.status_code == 400 and b"Fix the filter" in response.content
    assert not AuditEntry.objects.filter(action=actions.EXPORTED).exists()
    assert client.get("/audit/export.xml").status_code == 404


@pytest.mark.django_db
def test_counts_are_bounded(member, monkeypatch):
    monkeypatch.setattr(views, "COUNT_BOUND", 5)
    monkeypatch.setattr(views, "PER_PAGE", 2)
    _, client = member("erin", "cto")
    entries = write(*[(THING_DONE, None, {"i": i}) for i in range(9)])
    response = client.get("/audit/?action=test.")
    assert response.context["paginator"].count == 6 and response.context["paginator"].capped
    assert "More than 5 entries match" in response.content.decode()
    page_two = client.get("/audit/?action=test.&page=2").context["page"]
    assert [e.sequence for e in page_two] == [entries[6].sequence, entries[5].sequence]
    assert "page=2" in response.content.decode() and "action=test." in response.content.decode()


@pytest.mark.django_db
def test_the_badge_shows_the_last_verification(member):
    _, client = member("carol", "security-team")
    write((THING_DONE, None, {}), (THING_DONE, None, {}))
    assert "not verified yet" in client.get("/audit/").content.decode()
    head = verify(full=True).last  # the two entries and carol's login
    page = client.get("/audit/").content.decode()
    assert "intact" in page and f"Verified up to entry #{head}" in page and f"#{head} written" in page
    tamper("UPDATE audit_auditentry SET actor_name = 'mallory' WHERE sequence = 2")
    verify(full=True)
    page = client.get("/audit/1/").content.decode()
    assert "broken at entry #2" in page


@pytest.mark.django_db
def test_pending_entries_are_listed_on_top_as_pending_and_the_lag_is_shown(member):
    _, client = member("frank", "managers")
    (linked,) = write((THING_DONE, None, {"n": 1}))
    (pending,) = write((THING_UNDONE, None, {"n": 2}), link=False)
    response = client.get("/audit/")
    rows = list(response.context["page"])
    assert [(e.pk, e.sequence) for e in rows[:2]] == [(pending.pk, None), (linked.pk, linked.sequence)]
    page = response.content.decode()
    assert "pending" in page and "1 entry waiting to be linked" in page
    sequencer.link()
    assert "every entry is linked" in client.get("/audit/").content.decode()


# Streamed bodies are read after the view returned, on another connection: commit the data.
@pytest.mark.django_db(transaction=True)
def test_csv_export_streams_the_filtered_entries_and_is_itself_audited(member):
    carol, _ = member("carol", "security-team")
    first, _, third = write(
        (THING_DONE, "=HYPERLINK(evil)", {"n": 1}),
        (THING_UNDONE, None, {}),
        (THING_DONE, None, {"n": 3}),
    )
    response, body, _ = fetch_stream(carol, "/audit/export.csv?action=test.thing.done")
    assert response.status_code == 200 and response.is_async  # streamed, not rendered in one piece
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert [int(r["sequence"]) for r in rows] == [first.sequence, third.sequence]
    assert rows[0]["actor_name"] == "'=HYPERLINK(evil)"  # a spreadsheet will not run it
    assert json.loads(rows[1]["data"]) == {"n": 3}
    export = AuditEntry.objects.get(action=actions.EXPORTED)
    assert export.actor_name == "carol" and export.sequence > third.sequence
    assert export.data == {"format": "csv", "filter": {"action": "test.thing.done"}}
    assert response["Content-Disposition"] == f'attachment; filename="audit-{export.sequence}.csv"'


@pytest.mark.django_db(transaction=True)
def test_json_export_streams_in_chunks_and_every_exported_hash_verifies(member):
    frank, _ = member("frank", "managers")
    write(*[(THING_DONE if i % 2 else THING_UNDONE, None, {"i": i, "t": "ü"}) for i in range(1200)])
    head = AuditEntry.objects.values_list("sequence", flat=True).first()
    response, body, chunks = fetch_stream(frank, "/audit/export.json?since=2000-01-01")
    assert response.status_code == 200 and chunks > 2
    document = json.loads(body)
    entries, export = document["entries"], document["export_entry"]
    assert export > head and document["filter"] == {"since": "2000-01-01"}
    assert [e["sequence"] for e in entries] == list(range(1, export))  # the whole chain before it
    previous = chain.GENESIS
    for e in entries:  # re-verified from the export alone, as an outside auditor would
        content = chain.content_hash(*(e[name] for name in chain.CONTENT))
        assert e["prev_hash"] == previous and content == e["content_hash"]
        assert chain.link_hash(e["sequence"], previous, content) == e["hash"]
        previous = e["hash"]
    assert AuditEntry.objects.get(sequence=export).data == {
        "format": "json",
        "filter": {"since": "2000-01-01"},
    }


@pytest.mark.django_db
def test_under_wsgi_the_export_streams_a_plain_iterator(member):
    _, client = member("erin", "cto")
    write(*[(THING_DONE, None, {"i": i}) for i in range(1500)])
    response = client.get("/audit/export.csv?action=test.")
    assert response.status_code == 200 and response.streaming and not response.is_async
    chunks = list(response.streaming_content)
    assert len(chunks) == 4  # header, 1000 rows, 500 rows, footer
    assert b"".join(chunks).decode().count("\n") == 1501
