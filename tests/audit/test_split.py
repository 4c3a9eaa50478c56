"""PostgreSQL only: verification by COPY, and a long run split across two processes, give exactly
the outcome of one pass (first break, counts, acknowledged breaks), wherever the break is."""

import dataclasses
import logging

import pytest
from django.db import connection, transaction

from secrets_admin.audit import chain, scan, services
from secrets_admin.audit.models import AuditAnchor, AuditCheckpoint
from secrets_admin.audit.verification import verify
from tests.audit.conftest import THING_DONE, tamper, write
from tests.markers import requires_postgres

pytestmark = [requires_postgres, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
COUNT, MIDDLE = 41, 20  # the split of (0, 41]: this process checks 1..20, the child 21..41


def one_pass(accepted=frozenset()) -> chain.Outcome:
    with connection.cursor() as cursor:
        return scan.verify_range(cursor.cursor, 0, chain.GENESIS, accepted)


def split(accepted=frozenset()) -> chain.Outcome:
    return scan.verify_split(connection, 0, chain.GENESIS, accepted, COUNT)


def facts(outcome: chain.Outcome) -> dict:
    return {k: v for k, v in dataclasses.asdict(outcome).items() if k != "extra"}


def paths(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "secrets_admin.audit.scan"]


@pytest.fixture
def chain_of_41(caplog):
    caplog.set_level(logging.DEBUG, logger="secrets_admin.audit.scan")
    return write(COUNT)


def test_a_clean_chain_split_in_two_equals_one_pass(chain_of_41, caplog):
    whole = one_pass()
    assert (whole.ok, whole.entries, whole.first, whole.last) == (True, COUNT, 1, COUNT)
    assert facts(split()) == facts(whole)
    assert paths(caplog) == [f"split at #{MIDDLE}: the halves joined"]


@pytest.mark.parametrize("sequence", [MIDDLE + 1, 30, COUNT], ids=["its-first", "middle", "last"])
def test_a_break_in_the_second_process_range_is_found_as_one_pass_finds_it(chain_of_41, caplog, sequence):
    tamper("UPDATE audit_auditentry SET data = %s WHERE sequence = %s", ['{"i": 999}', sequence])
    outcome = split()
    assert (outcome.ok, outcome.broken_at, outcome.kind) == (False, sequence, "altered")
    assert outcome.entries == sequence - 1
    assert facts(outcome) == facts(one_pass())
    assert paths(caplog) == [f"split at #{MIDDLE}: the halves joined"]  # the child found it


def test_a_break_in_both_halves_reports_the_first(chain_of_41, caplog):
    for sequence in (7, 33):
        tamper("UPDATE audit_auditentry SET ip = '6.6.6.6' WHERE sequence = %s", [sequence])
    outcome = split()
    assert (outcome.broken_at, outcome.entries) == (7, 6)
    assert facts(outcome) == facts(one_pass())
    assert paths(caplog) == [f"split at #{MIDDLE}: a break before it"]


@pytest.mark.parametrize(
    "sql",
    [
        # the last entry of the first half; the link across; the hash the child starts from
        "UPDATE audit_auditentry SET actor_name = 'mallory' WHERE sequence = 20",
        "UPDATE audit_auditentry SET prev_hash = repeat('a', 64) WHERE sequence = 21",
        "UPDATE audit_auditentry SET hash = repeat('b', 64) WHERE sequence = 20",
        "DELETE FROM audit_auditentry WHERE sequence = 21",
    ],
    ids=["content-20", "link-21", "hash-20", "missing-21"],
)
def test_a_break_at_the_boundary_is_found_as_one_pass_finds_it(chain_of_41, sql):
    tamper(sql)
    outcome = split()
    assert not outcome.ok and outcome.broken_at in (MIDDLE, MIDDLE + 1)
    assert facts(outcome) == facts(one_pass())


def test_the_middle_entry_missing_is_checked_in_one_pass_from_where_the_first_half_ended(chain_of_41, caplog):
    tamper("DELETE FROM audit_auditentry WHERE sequence = %s", [MIDDLE])
    whole = one_pass()
    accepted = frozenset({whole.fingerprint})  # acknowledged: checking goes on past the gap
    outcome = split(accepted)
    assert (outcome.ok, outcome.entries, outcome.last, outcome.stepped_over) == (
        True,
        COUNT - 1,
        COUNT,
        [whole.fingerprint],
    )
    assert facts(outcome) == facts(one_pass(accepted))
    (message,) = paths(caplog)
    assert message.startswith(f"split at #{MIDDLE}: one pass from #{MIDDLE - 1}")


def test_acknowledged_breaks_in_both_halves_are_stepped_over_in_chain_order(chain_of_41, caplog):
    tamper("UPDATE audit_auditentry SET data = '{}' WHERE sequence IN (5, 21, 35)")
    accepted = frozenset()
    for _ in range(3):
        accepted |= {one_pass(accepted).fingerprint}
    outcome = split(accepted)
    assert outcome.ok and [f.split(":")[1] for f in outcome.stepped_over] == ["5", "21", "35"]
    assert facts(outcome) == facts(one_pass(accepted))
    assert paths(caplog) == [f"split at #{MIDDLE}: the halves joined"]


def test_a_child_that_cannot_connect_leaves_its_half_to_this_process(chain_of_41, caplog, monkeypatch):
    tamper("UPDATE audit_auditentry SET data = '{}' WHERE sequence = 30")
    params = connection.get_connection_params()
    monkeypatch.setattr(connection, "get_connection_params", lambda: {**params, "dbname": "no_such_db"})
    outcome = split()
    assert (outcome.broken_at, outcome.entries) == (30, 29)
    assert facts(outcome) == facts(one_pass())
    message, warning = paths(caplog)
    assert message.startswith(f"split at #{MIDDLE}: one pass from #{MIDDLE}") and "no_such_db" in message
    assert "the second process failed" in warning


def test_a_full_verify_above_the_threshold_splits_records_and_anchors(chain_of_41, caplog, monkeypatch):
    monkeypatch.setattr(scan, "PARALLEL_MIN", 10)
    outcome = verify(full=True)
    assert (outcome.ok, outcome.entries, outcome.last) == (True, COUNT, COUNT)
    assert paths(caplog) == [f"split at #{MIDDLE}: the halves joined"]
    checkpoint = AuditCheckpoint.objects.get()
    assert (checkpoint.ok, checkpoint.entries, checkpoint.sequence) == (True, COUNT, COUNT)
    assert AuditAnchor.objects.get().sequence == COUNT


def test_values_the_copy_stream_escapes_hash_as_written():
    odd = 'tab\there, new\nline, back\\slash, cr\r, "quoted", \x01 ünï €'
    with transaction.atomic():
        services.record(THING_DONE, actor=odd, data={odd: [odd, -0.0, 1e300, 12345678901234567890]})
    write(2, start=1)
    outcome = one_pass()
    assert (outcome.ok, outcome.entries) == (True, 3)
    with connection.cursor() as cursor:
        first = list(scan.rows(cursor.cursor, 0))[0]
    assert first[2] == odd.strip()
