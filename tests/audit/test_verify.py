"""verify_audit: a clean chain passes; a row changed with raw SQL is named, exit status 1."""

import pytest
from django.core.management import load_command_class
from django.db import connections, transaction

from secrets_admin.audit import chain, services
from secrets_admin.audit.models import AppendOnlyError, AuditCheckpoint, AuditEntry
from tests.audit.conftest import THING_DONE, tamper


def write(count, start=0):
    with transaction.atomic():
        return [services.record(THING_DONE, actor=None, data={"i": start + i}) for i in range(count)]


def run_command(monkeypatch, *args):
    """Run verify_audit the way a shell does; returns its exit status."""
    # run_from_argv closes every connection at the end, the test's own included: keep it.
    monkeypatch.setattr(connections, "close_all", lambda: None)
    command = load_command_class("secrets_admin.audit", "verify_audit")
    try:
        command.run_from_argv(["manage.py", "verify_audit", *args])
    except SystemExit as exit_:
        return exit_.code
    return 0


@pytest.mark.django_db
def test_a_clean_chain_verifies_and_leaves_a_checkpoint(capsys, monkeypatch):
    entries = write(5)
    assert run_command(monkeypatch, "--full") == 0
    assert "Audit chain intact (full): 5 entries checked, head #5" in capsys.readouterr().out
    checkpoint = AuditCheckpoint.objects.get()
    assert (checkpoint.ok, checkpoint.full, checkpoint.sequence) == (True, True, 5)
    assert checkpoint.hash == entries[-1].hash


@pytest.mark.django_db
def test_an_empty_ledger_verifies():
    outcome = services.verify()
    assert (outcome.ok, outcome.entries, outcome.last, outcome.last_hash) == (True, 0, 0, chain.GENESIS)


@pytest.mark.django_db
def test_a_row_changed_with_raw_sql_is_named_and_the_exit_status_is_1(capsys, monkeypatch):
    entries = write(6)
    tamper("UPDATE audit_auditentry SET data = %s WHERE sequence = 4", ['{"i": 999}'])
    assert run_command(monkeypatch, "--full") == 1
    err = capsys.readouterr().err
    assert "AUDIT CHAIN BROKEN at entry #4" in err
    assert f"found hash:    {entries[3].hash}" in err
    status = services.chain_status()
    assert (status.ok, status.broken_at, status.sequence) == (False, 4, 3)


@pytest.mark.django_db
def test_an_entry_rewritten_with_a_recomputed_hash_breaks_the_link_to_the_next():
    write(4)
    row = AuditEntry.objects.get(sequence=2)
    row.actor_name = "mallory"
    forged = chain.entry_hash(*(getattr(row, f) for f in chain.FIELDS[:-1]))
    tamper("UPDATE audit_auditentry SET actor_name = 'mallory', hash = %s WHERE sequence = 2", [forged])
    outcome = services.verify(full=True)
    assert (outcome.ok, outcome.broken_at) == (False, 3)
    assert "does not link" in outcome.problem
    assert (outcome.expected, outcome.found) == (forged, AuditEntry.objects.get(sequence=3).prev_hash)


@pytest.mark.django_db
def test_a_deleted_row_is_reported_as_a_gap():
    write(5)
    tamper("DELETE FROM audit_auditentry WHERE sequence = 3")
    outcome = services.verify(full=True)
    assert (outcome.ok, outcome.broken_at) == (False, 3)
    assert "missing" in outcome.problem


@pytest.mark.django_db
def test_incremental_runs_start_at_the_last_good_checkpoint():
    write(10)
    assert services.verify(full=True).entries == 10
    write(3, start=10)
    outcome = services.verify()
    assert (outcome.ok, outcome.entries, outcome.extra["from"], outcome.last) == (True, 3, 11, 13)
    # An old row changed behind the checkpoint is only found by a full run ...
    tamper("UPDATE audit_auditentry SET action = 'test.thing.undone' WHERE sequence = 2")
    assert services.verify().ok
    assert services.verify(full=True).broken_at == 2
    # ... and incremental runs keep starting from the last *good* checkpoint.
    assert services.last_checkpoint().sequence == 13


@pytest.mark.django_db
def test_incremental_runs_notice_a_changed_checkpoint_entry():
    write(5)
    services.verify(full=True)
    tamper("UPDATE audit_auditentry SET target_repr = 'x' WHERE sequence = 5")
    outcome = services.verify()
    assert (outcome.ok, outcome.broken_at) == (False, 5)


@pytest.mark.django_db
def test_incremental_runs_notice_entries_cut_from_the_end():
    write(7)
    services.verify(full=True)
    tamper("DELETE FROM audit_auditentry WHERE sequence >= 4")
    outcome = services.verify()
    assert (outcome.ok, outcome.broken_at) == (False, 4)
    assert "entries from #4 are gone" in outcome.problem


@pytest.mark.django_db
def test_a_break_is_logged_critical_and_handed_to_the_alert_hook(caplog, monkeypatch):
    write(3)
    seen = []
    monkeypatch.setattr(services, "raise_chain_alert", seen.append)  # the hook alerting will fill
    tamper("UPDATE audit_auditentry SET ip = '10.0.0.9' WHERE sequence = 2")
    services.verify(full=True)
    assert [o.broken_at for o in seen] == [2]
    assert any(r.levelname == "CRITICAL" and "#2" in r.getMessage() for r in caplog.records)


@pytest.mark.django_db
def test_a_checkpoint_cannot_be_edited_and_verifying_writes_no_audit_entry():
    write(2)
    services.verify(full=True)
    checkpoint = services.last_checkpoint()
    checkpoint.sequence = 99
    with pytest.raises(AppendOnlyError):
        checkpoint.save()
    assert AuditCheckpoint.objects.get().sequence == 2
    assert AuditEntry.objects.count() == 2
