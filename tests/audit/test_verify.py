"""verify_audit: a clean chain passes and is anchored in OpenBao; tampering anywhere is named
(exit status 1) and never reported intact afterwards; the anchor catches a whole rewrite and
entries cut after it was written."""

import hvac
import pytest
from django.conf import settings
from django.core.management import load_command_class
from django.db import connections

from secrets_admin.audit import anchors, chain, services
from secrets_admin.audit.models import AppendOnlyError, AuditAnchor, AuditCheckpoint, AuditEntry
from secrets_admin.audit.status import chain_status
from secrets_admin.audit.verification import last_checkpoint, verify
from tests.audit.conftest import tamper, write


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


def stored_anchor(openbao) -> dict:
    """The newest anchor as OpenBao holds it, read with an independent (root) client."""
    mount, key = settings.AUDIT_ANCHOR.split(":", 1)[1].split("/", 1)
    client = hvac.Client(url=openbao.url, token=openbao.token)
    return client.secrets.kv.v2.read_secret_version(
        path=key, mount_point=mount, raise_on_deleted_version=True
    )["data"]


def rewrite_everything(label="mallory"):
    """An attacker with the database recomputes every content hash and chain hash."""
    prev = chain.GENESIS
    for entry in AuditEntry.objects.linked().order_by("sequence"):
        entry.actor_name = label
        content = chain.content_hash(*entry.content())
        digest = chain.link_hash(entry.sequence, prev, content)
        tamper(
            "UPDATE audit_auditentry SET actor_name = %s, content_hash = %s, prev_hash = %s, hash = %s"
            " WHERE id = %s",
            [label, content, prev, digest, entry.pk],
        )
        prev = digest


@pytest.mark.django_db
def test_a_clean_chain_verifies_leaves_a_checkpoint_and_is_anchored_in_openbao(capsys, monkeypatch, openbao):
    entries = write(5)
    assert run_command(monkeypatch, "--full") == 0
    out = capsys.readouterr().out
    assert "Audit chain intact (full): 5 entries checked, head #5" in out and "head anchored" in out
    checkpoint = AuditCheckpoint.objects.get()
    assert (checkpoint.ok, checkpoint.full, checkpoint.sequence, checkpoint.hash) == (
        True,
        True,
        5,
        entries[-1].hash,
    )
    anchor = stored_anchor(openbao)
    assert (anchor["data"]["sequence"], anchor["data"]["hash"]) == (5, entries[-1].hash)
    row = AuditAnchor.objects.get()
    assert (row.ok, row.sequence, row.version) == (True, 5, anchor["metadata"]["version"])


@pytest.mark.django_db
def test_pending_entries_are_not_verified_until_linked_and_the_command_says_how_many_wait(
    capsys, monkeypatch
):
    write(3)
    write(2, start=3, link=False)
    assert run_command(monkeypatch, "--full") == 0
    out = capsys.readouterr().out
    assert "3 entries checked, head #3" in out and "2 entries wait for the sequencer" in out


@pytest.mark.django_db
def test_an_empty_ledger_verifies():
    outcome = verify()
    assert (outcome.ok, outcome.entries, outcome.last, outcome.last_hash) == (True, 0, 0, chain.GENESIS)


@pytest.mark.django_db
@pytest.mark.parametrize("sequence", [1, 4, 7], ids=["start", "middle", "end"])
def test_a_row_changed_with_raw_sql_is_named_and_never_reported_intact_afterwards(
    capsys, monkeypatch, sequence
):
    entries = write(7)
    verify()  # anchored at #7
    tamper("UPDATE audit_auditentry SET data = %s WHERE sequence = %s", ['{"i": 999}', sequence])

    assert run_command(monkeypatch, "--full") == 1
    err = capsys.readouterr().err
    assert f"AUDIT CHAIN BROKEN at entry #{sequence}" in err
    assert f"found hash:    {entries[sequence - 1].content_hash}" in err
    assert chain_status().state == "broken"
    # Later runs (incremental from the anchor, full again) never turn the page back to intact.
    verify()
    verify(full=True)
    status = chain_status()
    assert status.state == "broken" and [b.broken_at for b in status.open_breaks] == [sequence]


@pytest.mark.django_db
def test_an_entry_rewritten_with_recomputed_hashes_breaks_the_link_to_the_next():
    write(4)
    row = AuditEntry.objects.get(sequence=2)
    row.actor_name = "mallory"
    content = chain.content_hash(*row.content())
    forged = chain.link_hash(2, row.prev_hash, content)
    tamper(
        "UPDATE audit_auditentry SET actor_name = 'mallory', content_hash = %s, hash = %s WHERE sequence = 2",
        [content, forged],
    )
    outcome = verify(full=True)
    assert (outcome.ok, outcome.broken_at, outcome.kind) == (False, 3, "link")
    assert (outcome.expected, outcome.found) == (forged, AuditEntry.objects.get(sequence=3).prev_hash)


@pytest.mark.django_db
def test_a_deleted_row_is_reported_as_a_gap():
    write(5)
    tamper("DELETE FROM audit_auditentry WHERE sequence = 3")
    outcome = verify(full=True)
    assert (outcome.ok, outcome.broken_at, outcome.kind) == (False, 3, "missing")


@pytest.mark.django_db
@pytest.mark.parametrize("full", [True, False], ids=["full", "incremental"])
def test_the_whole_chain_rewritten_with_recomputed_hashes_is_caught_by_the_anchor(full):
    write(6)
    assert verify().ok  # anchors #6 in OpenBao
    rewrite_everything()
    assert chain.verify_rows(AuditEntry.objects.linked().order_by("sequence").values_list(*chain.FIELDS)).ok

    outcome = verify(full=full)
    assert (outcome.ok, outcome.kind, outcome.broken_at) == (False, "anchor", 6)
    assert "chain was rewritten" in outcome.problem
    assert not AuditAnchor.objects.filter(ok=True, hash=outcome.found).exists()  # the forgery is not anchored
    assert chain_status().state == "broken"


@pytest.mark.django_db
def test_entries_cut_from_the_end_are_caught_once_an_anchor_covers_them():
    write(5)
    verify()  # anchors #5
    write(3, start=5)
    tamper("DELETE FROM audit_auditentry WHERE sequence >= 4")
    for full in (False, True):
        outcome = verify(full=full)
        assert (outcome.ok, outcome.kind, outcome.broken_at) == (False, "cut", 4)
        assert "entries from #4 to #5 are gone" in outcome.problem


@pytest.mark.django_db
def test_truncating_everything_with_triggers_off_is_caught_by_the_anchor():
    write(3)
    verify()
    tamper("DELETE FROM audit_auditentry")  # what TRUNCATE would do, were it not refused
    outcome = verify(full=True)
    assert (outcome.ok, outcome.kind, outcome.broken_at) == (False, "cut", 1)


@pytest.mark.django_db
def test_incremental_runs_start_after_the_anchor():
    write(10)
    assert verify(full=True).entries == 10
    write(3, start=10)
    outcome = verify()
    assert (outcome.ok, outcome.entries, outcome.extra["from"], outcome.last) == (True, 3, 11, 13)
    assert "matches #10" in outcome.extra["anchor"]
    assert anchors.latest().sequence == 13


@pytest.mark.django_db
def test_without_a_readable_anchor_incremental_runs_start_at_the_last_good_checkpoint(settings):
    settings.AUDIT_ANCHOR = ""
    write(10)
    assert verify(full=True).entries == 10
    write(3, start=10)
    outcome = verify()
    assert (outcome.ok, outcome.entries, outcome.extra["from"], outcome.last) == (True, 3, 11, 13)
    # An old row changed behind the checkpoint is only found by a full run ...
    tamper("UPDATE audit_auditentry SET action = 'test.thing.undone' WHERE sequence = 2")
    assert verify().ok
    assert verify(full=True).broken_at == 2
    # ... and incremental runs keep starting from the last *good* checkpoint.
    assert last_checkpoint().sequence == 13


@pytest.mark.django_db
def test_incremental_runs_notice_a_changed_anchored_entry():
    write(5)
    verify()
    tamper("UPDATE audit_auditentry SET target_repr = 'x' WHERE sequence = 5")
    outcome = verify()
    assert (outcome.ok, outcome.broken_at, outcome.kind) == (False, 5, "altered")


@pytest.mark.django_db
def test_a_break_is_handed_to_the_alert_hook_once_per_break(caplog, monkeypatch):
    write(3)
    seen = []
    monkeypatch.setattr(services, "raise_chain_alert", seen.append)  # the hook alerting will fill
    tamper("UPDATE audit_auditentry SET ip = '10.0.0.9' WHERE sequence = 2")
    verify(full=True)
    verify(full=True)  # the same break again: recorded, not alerted twice within the hour
    assert [(o.kind, o.broken_at) for o in seen] == [("altered", 2)]
    assert AuditCheckpoint.objects.filter(ok=False, broken_at=2).count() == 2
    tamper("UPDATE audit_auditentry SET ip = '10.0.0.8' WHERE sequence = 1")
    verify(full=True)  # a different break alerts at once
    assert [o.broken_at for o in seen] == [2, 1]


def test_the_hook_logs_a_critical_line(caplog):
    services.raise_chain_alert(chain.Outcome().fail(7, "entry #7 was altered"))
    assert any(r.levelname == "CRITICAL" and "#7" in r.getMessage() for r in caplog.records)


@pytest.mark.django_db
def test_records_cannot_be_edited_and_verifying_writes_no_audit_entry():
    write(2)
    verify(full=True)
    checkpoint = last_checkpoint()
    checkpoint.sequence = 99
    with pytest.raises(AppendOnlyError):
        checkpoint.save()
    with pytest.raises(AppendOnlyError):
        AuditAnchor.objects.all().delete()
    assert AuditCheckpoint.objects.get().sequence == 2
    assert AuditEntry.objects.count() == 2
