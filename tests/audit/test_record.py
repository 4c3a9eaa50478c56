"""services.record(): what an entry holds, how it chains, and when it refuses."""

import hashlib

import pytest
from django.contrib.auth.models import Group
from django.db import transaction
from django.test import RequestFactory

from secrets_admin.audit import chain, services
from secrets_admin.audit.models import AppendOnlyError, AuditEntry
from tests.audit.conftest import THING_DONE, THING_UNDONE


@pytest.mark.django_db
def test_first_entry_links_to_genesis_and_the_next_to_it(make_user):
    alice = make_user("alice")
    with transaction.atomic():
        first = services.record(THING_DONE, actor=alice, data={"n": 1})
        second = services.record(THING_UNDONE, actor=None)
    rows = AuditEntry.objects.order_by("sequence").values_list("sequence", "prev_hash", "hash", "actor_name")
    assert list(rows) == [
        (1, chain.GENESIS, first.hash, "alice"),
        (2, first.hash, second.hash, "system"),
    ]
    assert len(first.hash) == 64 and first.hash != second.hash


@pytest.mark.django_db
def test_it_copies_actor_target_request_id_and_ip():
    group = Group.objects.get(name="managers")
    request = RequestFactory().get("/", REMOTE_ADDR="2001:db8:0:0::1")
    request.id = "req-12345678"
    with transaction.atomic():
        entry = services.record(
            THING_DONE, actor="celery:sync", target=group, data={"why": "ü"}, request=request
        )
    row = AuditEntry.objects.get(sequence=entry.sequence)
    assert (row.actor_id, row.actor_name) == (None, "celery:sync")
    assert (row.target_type, row.target_id, row.target_repr) == ("auth.group", str(group.pk), "managers")
    assert (row.request_id, row.ip) == ("req-12345678", "2001:db8::1")
    assert row.data == {"why": "ü"}
    # What the database gives back hashes to what was stored.
    assert chain.entry_hash(*(getattr(row, f) for f in chain.FIELDS[:-1])) == row.hash


@pytest.mark.django_db
def test_it_hashes_the_canonical_json_of_the_entry():
    with transaction.atomic():
        entry = services.record(THING_DONE, actor=None, data={"b": 2, "a": [1.5, None]})
    created = chain.format_time(entry.created_at)
    canonical = (
        f'{{"action":"test.thing.done","actor_name":"system","created_at":"{created}",'
        '"data":{"a":[1.5,null],"b":2},"ip":"",'
        f'"prev_hash":"{chain.GENESIS}","request_id":"","sequence":1,'
        '"target_id":"","target_repr":"","target_type":""}'
    )
    assert entry.hash == hashlib.sha256(canonical.encode()).hexdigest()
    assert chain.format_time(entry.created_at).endswith("Z")


@pytest.mark.django_db
def test_it_refuses_an_unregistered_action():
    with pytest.raises(ValueError, match="not registered"), transaction.atomic():
        services.record("test.never.registered", actor=None)
    assert not AuditEntry.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data, message",
    [
        ({"when": object()}, "JSON-safe"),
        ({"x": float("nan")}, "JSON-safe"),
        (["not", "a", "dict"], "dict"),
        ({"password": "hunter2hunter2"}, "secret"),
        ({"nul": "a\x00b"}, "NUL"),
        ({"changes": [{"field": "x", "password": "hunter2hunter2"}]}, "secret"),
    ],
)
def test_it_refuses_data_that_is_not_safe_json(data, message):
    with pytest.raises(ValueError, match=message), transaction.atomic():
        services.record(THING_DONE, actor=None, data=data)
    assert not AuditEntry.objects.exists()


@pytest.mark.django_db
def test_it_refuses_a_target_that_is_not_a_saved_model():
    with pytest.raises(TypeError), transaction.atomic():
        services.record(THING_DONE, actor=None, target=Group(name="unsaved"))
    assert not AuditEntry.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_it_refuses_to_run_outside_a_transaction():
    with pytest.raises(services.NotInTransaction):
        services.record(THING_DONE, actor=None)
    assert not AuditEntry.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_entry_rolls_back_with_the_change_it_describes():
    with pytest.raises(RuntimeError, match="change failed"), transaction.atomic():
        group = Group.objects.create(name="short-lived")
        services.record(THING_DONE, actor=None, target=group)
        raise RuntimeError("change failed")
    assert not Group.objects.filter(name="short-lived").exists()
    assert not AuditEntry.objects.exists()
    with transaction.atomic():
        entry = services.record(THING_DONE, actor=None)
    assert (entry.sequence, entry.prev_hash) == (1, chain.GENESIS)  # no gap left by the rollback


@pytest.mark.django_db
def test_the_orm_refuses_updates_and_deletes():
    with transaction.atomic():
        entry = services.record(THING_DONE, actor=None, data={"n": 1})
    entry.action = THING_UNDONE
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(sequence=1).update(action=THING_UNDONE)
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.bulk_create([AuditEntry(sequence=9, prev_hash="", hash="")])
    with pytest.raises(AppendOnlyError):
        AuditEntry(sequence=2, prev_hash="", hash="").save()
    assert list(AuditEntry.objects.values_list("sequence", "action")) == [(1, THING_DONE)]


@pytest.mark.django_db
def test_deleting_the_actor_keeps_the_entry_its_name_and_a_valid_chain(make_user):
    bob = make_user("bob")
    with transaction.atomic():
        services.record(THING_DONE, actor=bob)
        services.record(THING_UNDONE, actor=bob)
    bob.delete()
    assert list(AuditEntry.objects.order_by("sequence").values_list("actor_id", "actor_name")) == [
        (None, "bob"),
        (None, "bob"),
    ]
    assert services.verify(full=True).ok


@pytest.mark.parametrize(
    "text",
    ["plain", 'quote " and \\ backslash', "tab\tnew\nline\x01", "ünïcødé ✓ 🔑", "\u2028\u2029", ""],
)
def test_the_fast_hash_equals_the_plain_canonical_json(text):
    from datetime import UTC, datetime

    fields = (
        2**53 + 1,
        datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),  # no microseconds: still printed as .000000
        text,
        "test.thing.done",
        text,
        "42",
        text,
        "req",
        "::1",
        {"z": [1, 2.5, None, True], "a": {"nested": text}, "é": -0.0},
        chain.GENESIS,
    )
    document = chain.canonical_document(*fields)
    assert '"created_at":"2026-01-02T03:04:05.000000Z"' in document
    assert chain.entry_hash(*fields) == hashlib.sha256(document.encode()).hexdigest()


@pytest.mark.django_db
def test_the_admin_shows_entries_read_only(admin_user, client):
    from django_otp import DEVICE_ID_SESSION_KEY

    from tests.accounts.conftest import make_device

    device = make_device(admin_user)  # the admin is for superusers with a verified second factor
    client.force_login(admin_user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    with transaction.atomic():
        entry = services.record(THING_DONE, actor=None)
    response = client.get(f"/admin/audit/auditentry/{entry.sequence}/change/")
    assert response.status_code == 200 and b'name="_save"' not in response.content
    assert client.post(f"/admin/audit/auditentry/{entry.sequence}/delete/").status_code == 403
    assert client.get("/admin/audit/auditentry/").status_code == 200
    assert AuditEntry.objects.filter(sequence=entry.sequence).exists()


@pytest.mark.django_db
def test_nul_characters_in_names_and_reprs_are_dropped_not_fatal():
    group = Group.objects.create(name="nulgroup")
    group.name = "nul\x00group"  # in memory only: PostgreSQL would refuse to store it
    with transaction.atomic():
        entry = services.record(THING_DONE, actor="celery:\x00odd", target=group)
    row = AuditEntry.objects.get(sequence=entry.sequence)
    assert (row.actor_name, row.target_repr) == ("celery:odd", "nulgroup")
    assert services.verify(full=True).ok
