"""services.record(): what an entry holds, how it chains, and when it refuses."""

import hashlib
import json

import pytest
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import signals
from django.test import RequestFactory

from secrets_admin.audit import chain, sequencer, services
from secrets_admin.audit.models import AppendOnlyError, AuditEntry
from secrets_admin.audit.verification import verify
from tests.audit.conftest import THING_DONE, THING_UNDONE


@pytest.mark.django_db
def test_an_entry_is_written_unlinked_and_the_sequencer_links_it_to_genesis_then_the_next_to_it(make_user):
    alice = make_user("alice")
    with transaction.atomic():
        first = services.record(THING_DONE, actor=alice, data={"n": 1})
        second = services.record(THING_UNDONE, actor=None)
    assert (first.sequence, first.prev_hash, first.hash) == (None, "", "")
    assert first.content_hash == chain.content_hash(*first.content()) and len(first.content_hash) == 64
    assert AuditEntry.objects.pending().count() == 2

    assert sequencer.link() == 2
    h1 = chain.link_hash(1, chain.GENESIS, first.content_hash)
    h2 = chain.link_hash(2, h1, second.content_hash)
    rows = AuditEntry.objects.order_by("sequence").values_list(
        "id", "sequence", "prev_hash", "hash", "actor_name"
    )
    assert list(rows) == [
        (first.id, 1, chain.GENESIS, h1, "alice"),
        (second.id, 2, h1, h2, "system"),
    ]
    assert sequencer.link() == 0  # linked once
    assert not AuditEntry.objects.pending().exists()


@pytest.mark.django_db
def test_it_copies_actor_target_request_id_and_ip():
    group = Group.objects.get(name="managers")
    request = RequestFactory().get("/", REMOTE_ADDR="2001:db8:0:0::1")
    request.id = "req-12345678"
    with transaction.atomic():
        entry = services.record(
            THING_DONE, actor="celery:sync", target=group, data={"why": "ü"}, request=request
        )
    row = AuditEntry.objects.get(pk=entry.pk)
    assert (row.actor_id, row.actor_name) == (None, "celery:sync")
    assert (row.target_type, row.target_id, row.target_repr) == ("auth.group", str(group.pk), "managers")
    assert (row.request_id, row.ip) == ("req-12345678", "2001:db8::1")
    assert row.data == {"why": "ü"}
    # What the database gives back hashes to what was stored.
    assert chain.content_hash(*row.content()) == row.content_hash


@pytest.mark.django_db
def test_it_hashes_the_canonical_json_of_the_content_and_the_sequencer_the_link():
    with transaction.atomic():
        entry = services.record(THING_DONE, actor=None, data={"b": 2, "a": [1.5, None]})
    created = chain.format_time(entry.created_at)
    content = (
        f'{{"action":"test.thing.done","actor_name":"system","created_at":"{created}",'
        '"data":{"a":[1.5,null],"b":2},"ip":"","request_id":"",'
        '"target_id":"","target_repr":"","target_type":""}'
    )
    assert entry.content_hash == hashlib.sha256(content.encode()).hexdigest()
    sequencer.link()
    entry.refresh_from_db()
    link = f'{{"content_hash":"{entry.content_hash}","prev_hash":"{chain.GENESIS}","sequence":1}}'
    assert entry.hash == hashlib.sha256(link.encode()).hexdigest()
    assert created.endswith("Z")


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
        ({"a\x00": 1}, "NUL"),
        ({"escaped": "\\u0000"}, "NUL"),  # what the JSON text shows for a NUL
        ({"changes": [{"field": "x", "password": "hunter2hunter2"}]}, "secret"),
    ],
)
def test_it_refuses_data_that_is_not_safe_json(data, message):
    with pytest.raises(ValueError, match=message), transaction.atomic():
        services.record(THING_DONE, actor=None, data=data)
    assert not AuditEntry.objects.exists()


FLAT = [
    {},
    {"i": 1, "writer": 3, "mode": "v2"},
    {"big": 2**80, "neg": -5, "yes": True, "no": False, "none": None, "text": "ünï 🔑 \u2028"},
    {"path": "C:\\dir", "quote": 'say "hi"'},  # a backslash: the full round trip
    {"f": 1.5},  # floats, lists, dicts, subclasses: the full round trip
    {"t": (1, 2)},
    {"n": {"inner": 1}},
    {1: "int key"},
]


@pytest.mark.parametrize("data", FLAT)
def test_the_flat_data_shortcut_gives_what_the_json_round_trip_gives(data):
    normalised = chain.normalise_data(data)
    expected = chain._as_stored(json.loads(chain._ENCODER.encode(data)))
    assert normalised == expected and normalised is not data
    assert list(normalised.items()) == list(expected.items())  # keys sorted, as the round trip sorts them
    assert [type(v) for v in normalised.values()] == [type(v) for v in expected.values()]
    assert chain.encode_data(normalised) == chain._ENCODER.encode(expected)


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
    sequencer.link()
    entry.refresh_from_db()
    assert (entry.sequence, entry.prev_hash) == (1, chain.GENESIS)  # no gap left by the rollback


@pytest.mark.django_db
def test_the_orm_refuses_updates_and_deletes():
    with transaction.atomic():
        entry = services.record(THING_DONE, actor=None, data={"n": 1})
    sequencer.link()
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
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(sequence__isnull=True).update(sequence=5)  # not even "linking"
    assert list(AuditEntry.objects.values_list("sequence", "action")) == [(1, THING_DONE)]


@pytest.mark.django_db
def test_deleting_the_actor_keeps_the_entry_its_name_and_a_valid_chain(make_user):
    bob = make_user("bob")
    with transaction.atomic():
        services.record(THING_DONE, actor=bob)
        services.record(THING_UNDONE, actor=bob)
    sequencer.link()
    bob.delete()
    assert list(AuditEntry.objects.order_by("sequence").values_list("actor_id", "actor_name")) == [
        (None, "bob"),
        (None, "bob"),
    ]
    assert verify(full=True).ok


@pytest.mark.parametrize(
    "text",
    ["plain", 'quote " and \\ backslash', "tab\tnew\nline\x01", "ünïcødé ✓ 🔑", "\u2028\u2029", ""],
)
def test_the_fast_hash_equals_the_plain_canonical_json(text):
    from datetime import UTC, datetime

    fields = (
        datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),  # no microseconds: still printed as .000000
        text,
        "test.thing.done",
        text,
        "42",
        text,
        "req",
        "::1",
        {"z": [1, 2.5, None, True], "a": {"nested": text}, "é": -1.5},
    )
    document = chain.canonical_content(*fields)
    assert '"created_at":"2026-01-02T03:04:05.000000Z"' in document
    assert chain.content_hash(*fields) == hashlib.sha256(document.encode()).hexdigest()
    digest = chain.content_hash(*fields)
    link = chain.canonical_link(2**53 + 1, chain.GENESIS, digest)
    assert chain.link_hash(2**53 + 1, chain.GENESIS, digest) == hashlib.sha256(link.encode()).hexdigest()


# Numbers as jsonb keeps them: PostgreSQL's numeric turns every float written with an exponent
# (magnitude >= 1e16) into an integer and -0.0 into 0.0; tiny floats come back as long decimals.
ROUND_TRIP = {
    "large": [1e16, 1.5e16, -1e16, 1.2345678901234568e20, 1.7976931348623157e308, 2**70],
    "small": [1e-7, 5e-324, -2.5e-300, 0.1 + 0.2, 1e15, 123456.789],
    "zero": [-0.0, 0.0, 0],
    "unicode": ["ünïcødé ✓ 🔑", "\u2028\u2029", "中文", 'quote " \\ tab\t'],
    "nested": {"é": {"deep": [1e16, -0.0, "🔑"]}},
}


@pytest.mark.django_db(transaction=True)
def test_data_survives_the_database_round_trip_and_verifies():
    with transaction.atomic():
        entry = services.record(THING_DONE, actor=None, data=ROUND_TRIP)
    assert entry.data["large"][:2] == [10**16, 15 * 10**15] and entry.data["zero"][0] == 0.0
    assert entry.data["large"][3] == 123456789012345680000  # the decimal digits, not the binary value
    sequencer.link()
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert stored.data == entry.data  # what record() hashed is what the database gives back
    assert chain.content_hash(*stored.content()) == stored.content_hash == entry.content_hash
    outcome = verify(full=True)
    assert (outcome.ok, outcome.entries) == (True, 1)


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
    response = client.get(f"/admin/audit/auditentry/{entry.pk}/change/")
    assert response.status_code == 200 and b'name="_save"' not in response.content
    assert client.post(f"/admin/audit/auditentry/{entry.pk}/delete/").status_code == 403
    assert client.get("/admin/audit/auditentry/").status_code == 200
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.django_db
def test_nul_characters_in_names_and_reprs_are_dropped_not_fatal():
    group = Group.objects.create(name="nulgroup")
    group.name = "nul\x00group"  # in memory only: PostgreSQL would refuse to store it
    with transaction.atomic():
        entry = services.record(THING_DONE, actor="celery:\x00odd", target=group)
    sequencer.link()
    row = AuditEntry.objects.get(pk=entry.pk)
    assert (row.actor_name, row.target_repr) == ("celery:odd", "nulgroup")
    assert verify(full=True).ok


@pytest.mark.django_db
def test_the_returned_entry_is_the_instance_the_orm_would_load(make_user):
    alice = make_user("alice-entry")
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance)

    with transaction.atomic():
        fast = services.record(THING_DONE, actor=alice, data={"n": 1})
        signals.post_init.connect(receiver, sender=AuditEntry)  # a listener: Model.__init__ runs
        try:
            built = services.record(THING_UNDONE, actor=None)
        finally:
            signals.post_init.disconnect(receiver, sender=AuditEntry)
    assert seen == [built]
    for entry in (fast, built):
        loaded = AuditEntry.objects.get(pk=entry.pk)
        values = [getattr(entry, f.attname) for f in AuditEntry._meta.concrete_fields]
        assert values == [getattr(loaded, f.attname) for f in AuditEntry._meta.concrete_fields]
        assert entry == loaded and not entry._state.adding and entry._state.db == "default"
        with pytest.raises(AppendOnlyError):
            entry.save()
    assert fast.actor is alice and str(fast) == f"#pending {THING_DONE} by alice-entry"
