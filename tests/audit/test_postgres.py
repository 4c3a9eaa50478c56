"""PostgreSQL only: the triggers, writers that never wait for each other, and a sequencer that
links committed entries exactly once, in the order it saw them commit, also when it is killed."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction

from secrets_admin.audit import chain, sequencer, services
from secrets_admin.audit.models import AuditEntry
from secrets_admin.audit.verification import verify
from tests.audit.conftest import THING_DONE, write
from tests.markers import requires_postgres

pytestmark = [requires_postgres, pytest.mark.postgres]
ROOT = Path(__file__).resolve().parents[2]


def raw(sql, params=()):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.django_db(transaction=True)
def test_the_trigger_refuses_every_change_but_the_one_link():
    write(1, link=False)
    (pending,) = AuditEntry.objects.all()
    with pytest.raises(IntegrityError, match="append-only: UPDATE refused"):
        raw("UPDATE audit_auditentry SET action = 'x.y'")
    with pytest.raises(
        IntegrityError, match="append-only: UPDATE refused"
    ):  # linking must set all chain columns
        raw("UPDATE audit_auditentry SET sequence = 1")
    with pytest.raises(IntegrityError, match="append-only: UPDATE refused"):  # and change nothing else
        raw(
            "UPDATE audit_auditentry SET sequence = 1, prev_hash = %s, hash = 'h', linked_at = now(),"
            " ip = '1.2.3.4'",
            [chain.GENESIS],
        )
    assert sequencer.link() == 1
    with pytest.raises(IntegrityError, match="append-only: UPDATE refused"):  # once
        raw("UPDATE audit_auditentry SET sequence = 7, hash = 'x'")
    with pytest.raises(IntegrityError, match="append-only: DELETE refused"):
        raw("DELETE FROM audit_auditentry")
    with pytest.raises(IntegrityError, match="inserted unlinked"):  # no pre-linked forgeries
        raw(
            "INSERT INTO audit_auditentry (sequence, created_at, actor_name, action, target_type, target_id,"
            " target_repr, request_id, ip, data, content_hash, prev_hash, hash)"
            " VALUES (2, now(), 'm', 'x.y', '', '', '', '', '', '{}', 'c', 'p', 'h')"
        )
    assert list(AuditEntry.objects.values_list("id", "sequence")) == [(pending.pk, 1)]
    assert verify(full=True).ok


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "table", ["audit_auditentry", "audit_auditcheckpoint", "audit_auditanchor", "audit_breakacknowledgement"]
)
def test_truncate_is_refused_even_to_the_owner(table):
    write(2)
    verify(full=True)
    with pytest.raises(IntegrityError, match=f"{table} is append-only: TRUNCATE refused"):
        raw(f"TRUNCATE {table} CASCADE")
    assert AuditEntry.objects.count() == 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("table", ["audit_auditcheckpoint", "audit_auditanchor"])
def test_checkpoints_and_anchors_are_append_only(table):
    write(2)
    verify(full=True)
    with pytest.raises(IntegrityError, match=f"{table} is append-only: UPDATE refused"):
        raw(f"UPDATE {table} SET sequence = 99")  # noqa: S608 (a parametrized table name)
    with pytest.raises(IntegrityError, match=f"{table} is append-only: DELETE refused"):
        raw(f"DELETE FROM {table}")  # noqa: S608


@pytest.mark.django_db(transaction=True)
def test_the_trigger_lets_a_user_deletion_null_the_actor_and_nothing_else():
    carol = get_user_model().objects.create_user("carol", password="x" * 16)
    with transaction.atomic():
        services.record(THING_DONE, actor=carol)
    sequencer.link()
    with pytest.raises(IntegrityError):
        raw("UPDATE audit_auditentry SET actor_id = %s", [carol.pk + 1000])  # re-pointing is refused
    carol.delete()
    assert list(AuditEntry.objects.values_list("actor_id", "actor_name")) == [(None, "carol")]
    assert verify(full=True).ok


def _thread(target, *args):
    def run():
        try:
            target(*args)
        finally:
            connection.close()

    worker = threading.Thread(target=run)
    worker.start()
    return worker


@pytest.mark.django_db(transaction=True)
def test_an_entry_with_a_lower_id_that_commits_later_is_linked_after_what_committed_before_it():
    inserted, release, order = threading.Event(), threading.Event(), []

    def slow_writer():
        with transaction.atomic():
            order.append(services.record(THING_DONE, actor="slow", data={"n": "slow"}).pk)
            inserted.set()
            assert release.wait(30)  # the transaction stays open: its entry is invisible

    slow = _thread(slow_writer)
    assert inserted.wait(30)
    with transaction.atomic():
        fast = services.record(THING_DONE, actor="fast", data={"n": "fast"})
    assert fast.pk > order[0]  # the lower id is still in flight

    assert sequencer.link() == 1  # links what it saw committed, never waits for the gap
    assert AuditEntry.objects.get(pk=fast.pk).sequence == 1
    release.set()
    slow.join(30)
    assert sequencer.link() == 1
    assert list(AuditEntry.objects.order_by("sequence").values_list("actor_name", "sequence")) == [
        ("fast", 1),
        ("slow", 2),
    ]
    assert verify(full=True).ok


@pytest.mark.django_db(transaction=True)
def test_sixteen_writers_and_two_sequencers_give_one_gapless_chain_each_entry_linked_once():
    writers, per_writer = 16, 60
    barrier = threading.Barrier(writers + 2)
    done, errors, linked = threading.Event(), [], []

    def writer(n):
        try:
            barrier.wait()
            for i in range(per_writer):
                with transaction.atomic():
                    services.record(THING_DONE, actor=f"thread:{n}", data={"i": i})
                    if i % 7 == 0:  # a change that holds its transaction a little longer
                        time.sleep(0.002)
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)

    def linker():
        try:
            barrier.wait()
            while not done.is_set():
                linked.append(sequencer.link(batch=50))
            linked.append(sequencer.link())
        except Exception as exc:
            errors.append(exc)

    threads = [_thread(writer, n) for n in range(writers)] + [_thread(linker), _thread(linker)]
    for thread in threads[:writers]:
        thread.join(120)
    done.set()
    for thread in threads[writers:]:
        thread.join(120)
    assert errors == []
    total = writers * per_writer
    assert sum(linked) == total  # every entry linked by exactly one of the two sequencers
    assert list(AuditEntry.objects.order_by("sequence").values_list("sequence", flat=True)) == list(
        range(1, total + 1)
    )
    assert AuditEntry.objects.values("actor_name").distinct().count() == writers
    outcome = verify(full=True)
    assert (outcome.ok, outcome.entries) == (True, total)


@pytest.mark.django_db(transaction=True)
def test_a_sequencer_killed_mid_batch_links_nothing_and_the_next_one_links_each_entry_once():
    write(40, link=False)
    ids = list(AuditEntry.objects.order_by("id").values_list("id", flat=True))
    # Another session holds entry 30's row, so the sequencer's batch UPDATE stops half-way.
    holder = psycopg.connect(_database_url())
    holder.execute("SELECT 1 FROM audit_auditentry WHERE id = %s FOR UPDATE", [ids[29]])
    env = {**os.environ, "DATABASE_URL": _database_url(), "DJANGO_SETTINGS_MODULE": "console.settings"}
    child = subprocess.Popen(
        [sys.executable, "manage.py", "run_sequencer", "--once"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not _waiting_on_a_lock():
            assert child.poll() is None, child.stdout.read().decode()
            assert time.monotonic() < deadline, "the sequencer never reached the locked row"
            time.sleep(0.1)
        os.killpg(child.pid, signal.SIGKILL)  # mid-batch: rows before #30 are updated, uncommitted
        child.wait(30)
    finally:
        holder.rollback()
        holder.close()
    _wait_for_backend_gone()
    assert AuditEntry.objects.linked().count() == 0  # the killed batch left nothing behind

    assert sequencer.link() == 40
    rows = list(AuditEntry.objects.order_by("sequence").values_list("id", "sequence"))
    assert rows == [(id_, n) for n, id_ in enumerate(ids, start=1)]
    assert sequencer.link() == 0
    assert verify(full=True).ok


def _database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _waiting_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND query LIKE 'UPDATE audit_auditentry%%'"
        )
        return cursor.fetchone()[0] > 0


def _wait_for_backend_gone():
    """PostgreSQL notices the killed client when it next talks to it; wait for the abort."""
    deadline = time.monotonic() + 30
    while _waiting_on_a_lock() or _sequencer_sessions():
        assert time.monotonic() < deadline
        time.sleep(0.1)


def _sequencer_sessions() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND query LIKE 'UPDATE audit_auditentry%%' AND state <> 'idle' AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_the_update_trigger_compares_every_column_of_the_table():
    import importlib

    triggers = importlib.import_module("secrets_admin.audit.migrations.0005_append_only_triggers")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'audit_auditentry'"
        )
        columns = {row[0] for row in cursor.fetchall()}
    assert columns == {*triggers.CONTENT, *triggers.CHAIN, "actor_id"}  # a new column needs the trigger too


@pytest.mark.django_db(transaction=True)
def test_a_writer_only_inserts_and_the_sequencer_loop_links_its_entry_within_its_interval(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        entry = services.record(THING_DONE, actor="writer", data={"n": 1})
    assert callbacks == []  # nothing runs after the writer's commit: linking is the loop's
    assert AuditEntry.objects.get(pk=entry.pk).sequence is None

    stop = threading.Event()
    loop = _thread(lambda: sequencer.run(interval=0.05, stop=stop))
    try:
        deadline = time.monotonic() + 30
        while AuditEntry.objects.get(pk=entry.pk).sequence is None:
            assert time.monotonic() < deadline, "the sequencer loop never linked the entry"
            time.sleep(0.02)
    finally:
        stop.set()
        loop.join(30)
    linked = AuditEntry.objects.get(pk=entry.pk)
    assert linked.sequence == 1 and linked.linked_at >= linked.created_at
    assert verify(full=True).ok
