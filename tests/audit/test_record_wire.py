"""record() on PostgreSQL (secrets_admin.audit.wire): when its entry is the first statement of
the transaction, BEGIN travels with the INSERT (two round trips per audited change instead of
three), the INSERT is a statement prepared once per session, and everything else behaves as
with psycopg's own BEGIN and Django's cursor."""

import psycopg
import pytest
from django.contrib.auth.models import Group
from django.db import InternalError, connection, transaction
from django.db.transaction import TransactionManagementError
from psycopg import pq

from secrets_admin.audit import chain, sequencer, services, wire
from secrets_admin.audit.models import AuditEntry
from secrets_admin.audit.verification import verify
from tests.audit.conftest import THING_DONE, THING_UNDONE
from tests.markers import requires_postgres

pytestmark = [requires_postgres, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def commands(monkeypatch):
    """The commands psycopg sends on its own (BEGIN, COMMIT, ROLLBACK) on Django's connection."""
    sent = []
    original = psycopg.Connection._exec_command

    def spy(self, command, *args, **kwargs):
        if self is connection.connection:
            sent.append(bytes(command).split()[0].decode())
        return original(self, command, *args, **kwargs)

    monkeypatch.setattr(psycopg.Connection, "_exec_command", spy)
    return sent


def _others_see(pk) -> bool:
    """Whether a second connection sees entry `pk` (committed)."""
    db = connection.settings_dict
    with psycopg.connect(
        dbname=db["NAME"], user=db["USER"], host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432
    ) as other:
        return other.execute("SELECT 1 FROM audit_auditentry WHERE id = %s", [pk]).fetchone() is not None


def test_an_entry_alone_sends_no_begin_of_its_own_and_commits_with_its_transaction(commands):
    with transaction.atomic():
        entry = services.record(THING_DONE, actor="celery:test", data={"n": 1, "big": 1e300})
        pg = connection.connection
        assert pg.info.transaction_status == pq.TransactionStatus.INTRANS
        assert not _others_see(entry.pk)  # in the open transaction, not autocommitted
        with connection.cursor() as cursor:  # the same transaction as later statements
            cursor.execute(
                "SELECT xmin::text = txid_current()::text FROM audit_auditentry WHERE id = %s", [entry.pk]
            )
            assert cursor.fetchone() == (True,)
    assert commands == ["COMMIT"]
    assert _others_see(entry.pk)
    row = AuditEntry.objects.get(pk=entry.pk)
    assert (row.actor_name, row.data, row.sequence) == (
        "celery:test",
        entry.data,
        None,
    )  # jsonb: 1e300 an int
    assert chain.content_hash(*row.content()) == row.content_hash == entry.content_hash
    assert sequencer.link() == 1


def test_a_failure_after_the_entry_rolls_the_entry_back(commands):
    with pytest.raises(RuntimeError), transaction.atomic():
        entry = services.record(THING_DONE, actor=None)
        raise RuntimeError("the change failed")
    assert commands == ["ROLLBACK"]
    assert not AuditEntry.objects.filter(pk=entry.pk).exists()


def test_a_refused_insert_raises_djangos_error_and_leaves_the_connection_usable(commands):
    with connection.cursor() as cursor:  # the server refuses the INSERT that follows the BEGIN
        cursor.execute("SET default_transaction_read_only = on")
    try:
        with pytest.raises(InternalError, match="read-only transaction"), transaction.atomic():
            services.record(THING_DONE, actor=None)
        assert commands == ["ROLLBACK"]
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET default_transaction_read_only")
    assert not AuditEntry.objects.exists()
    with transaction.atomic():  # the next audited change is unaffected
        services.record(THING_UNDONE, actor=None)
    assert AuditEntry.objects.get().action == THING_UNDONE


def test_after_another_statement_the_entry_joins_the_open_transaction(commands):
    with pytest.raises(RuntimeError), transaction.atomic():
        group = Group.objects.create(name="wire-test")
        services.record(THING_DONE, actor=None, target=group)
        raise RuntimeError("the change failed")
    assert commands == ["BEGIN", "ROLLBACK"]  # psycopg's BEGIN, sent before the group's INSERT
    assert not Group.objects.filter(name="wire-test").exists() and not AuditEntry.objects.exists()


def test_execute_wrappers_and_record_many_see_the_same_rows():
    seen = []

    def wrapper(execute, sql, params, many, context):
        seen.append(sql.split()[0])
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper), transaction.atomic():
        services.record(THING_DONE, actor=None)
    assert seen == ["INSERT"]  # a wrapper counting statements still counts the entry
    with transaction.atomic():
        many = services.record_many([(THING_DONE, None, {"i": i}) for i in range(3)], actor="celery:chunk")
    assert [e.pk for e in many] == sorted(e.pk for e in many)
    stored = AuditEntry.objects.filter(pk__in=[e.pk for e in many]).order_by("id")
    assert [row.data["i"] for row in stored] == [0, 1, 2]
    assert [row.content_hash for row in stored] == [e.content_hash for e in many]


def test_the_actor_index_holds_people_only_and_serves_their_lookups(django_user_model):
    alice = django_user_model.objects.create_user(username="alice-wire", password="x" * 16)
    with transaction.atomic():
        services.record(THING_DONE, actor=alice)
        services.record(THING_DONE, actor="celery:sync")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN SELECT id FROM audit_auditentry WHERE actor_id = %s", [alice.pk])
        plan = " ".join(row[0] for row in cursor.fetchall())
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'audit_actor_user_idx'")
        (definition,) = cursor.fetchone()
    assert "audit_actor_user_idx" in plan  # the "person" filter and ON DELETE SET NULL use it
    assert definition.endswith("WHERE (actor_id IS NOT NULL)")
    alice.delete()  # Django's SET NULL finds her entries through it; the chain content is kept
    assert list(AuditEntry.objects.order_by("id").values_list("actor_id", "actor_name")) == [
        (None, "alice-wire"),
        (None, "celery:sync"),
    ]


def _prepared_runs() -> int:
    """How often this session ran record()'s named statement (0 if it holds none)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generic_plans + custom_plans FROM pg_prepared_statements WHERE name = %s",
            [wire.NAME.decode()],
        )
        found = cursor.fetchone()
    return found[0] if found else 0


def test_the_insert_is_prepared_once_per_session_and_reused_in_and_out_of_a_transaction(commands):
    connection.close()  # a new session: the statement is prepared by its first entry
    with transaction.atomic():
        first = services.record(THING_DONE, actor=None, data={"n": 1})
    with transaction.atomic():
        Group.objects.create(name="wire-prepared")  # the entry joins psycopg's open transaction
        second = services.record(THING_UNDONE, actor=None, data={"n": 2})
    assert _prepared_runs() == 2
    assert commands == ["COMMIT", "BEGIN", "COMMIT"]
    connection.close()  # the next session prepares it again
    with transaction.atomic():
        third = services.record(THING_DONE, actor=None)
    assert _prepared_runs() == 1
    stored = AuditEntry.objects.filter(pk__in=[first.pk, second.pk, third.pk]).order_by("id")
    assert [(e.action, e.data, e.content_hash) for e in stored] == [
        (e.action, e.data, e.content_hash) for e in (first, second, third)
    ]
    assert sequencer.link() == 3 and verify(full=True).ok


def test_without_prepared_statements_the_insert_still_travels_with_its_begin(commands, settings):
    settings.AUDIT_PREPARED_INSERT = False  # behind a pooler that does not track them
    connection.close()
    with transaction.atomic():
        entry = services.record(THING_DONE, actor="celery:test", data={"n": "x"})
    assert commands == ["COMMIT"] and _prepared_runs() == 0
    assert AuditEntry.objects.get(pk=entry.pk).content_hash == entry.content_hash


def test_a_broken_transaction_is_refused_as_djangos_cursor_refuses_it():
    with transaction.atomic():
        Group.objects.create(name="wire-broken")
        connection.needs_rollback = True  # what an error inside an inner atomic(savepoint=False) leaves
        with pytest.raises(TransactionManagementError):
            services.record(THING_DONE, actor=None)
    assert not AuditEntry.objects.exists() and not Group.objects.filter(name="wire-broken").exists()


def test_record_many_splits_what_one_statement_cannot_carry():
    items = [(THING_DONE, None, {"i": i}) for i in range(services._MANY + 7)]  # > 65,535 parameters
    with transaction.atomic():
        many = services.record_many(items, actor="celery:chunk")
    assert [e.pk for e in many] == sorted(e.pk for e in many)
    stored = AuditEntry.objects.order_by("id").values_list("data", "content_hash")
    assert [data["i"] for data, _ in stored] == list(range(len(items)))
    assert [digest for _, digest in stored] == [e.content_hash for e in many]


def test_a_read_interrupted_half_way_leaves_the_session_usable(monkeypatch):
    read, calls = wire._read, []

    def interrupted(pgconn, results):  # the first read fails; _abandon's read then drains
        calls.append(len(results))
        if len(calls) == 1:
            raise KeyboardInterrupt
        read(pgconn, results)

    monkeypatch.setattr(wire, "_read", interrupted)
    connection.close()
    with pytest.raises(KeyboardInterrupt), transaction.atomic():
        pg = connection.connection
        services.record(THING_DONE, actor=None)  # BEGIN, Parse, Execute were sent
    monkeypatch.undo()
    assert calls == [0, 0] and not pg.closed and connection.connection is pg
    assert pg.pgconn.pipeline_status == pq.PipelineStatus.OFF
    assert pg in wire._prepared  # its Parse succeeded: not sent again (it would be refused)
    with transaction.atomic():
        services.record(THING_UNDONE, actor=None)
    assert list(AuditEntry.objects.values_list("action", flat=True)) == [THING_UNDONE]


def test_a_session_not_in_utf8_takes_djangos_cursor(commands):
    connection.close()  # a new session: nothing prepared yet
    with connection.cursor() as cursor:
        cursor.execute("SET client_encoding TO 'LATIN1'")
    try:
        with transaction.atomic():
            entry = services.record(THING_DONE, actor="celery:ç", data={"name": "é"})
        assert commands == ["BEGIN", "COMMIT"] and _prepared_runs() == 0  # psycopg's BEGIN, no Parse
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET client_encoding")
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert (stored.actor_name, stored.data) == ("celery:ç", {"name": "é"})
    assert stored.content_hash == entry.content_hash
