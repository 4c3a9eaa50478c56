"""Session recording from OpenBao's real file audit device: each request the grant's token made,
in order, once, also when the reader restarts or finds half a line."""

import hvac
import hvac.exceptions
import pytest

from breakglass.models import AuditCursor, Grant, SessionEvent
from breakglass.services import approve, grants, recording

pytestmark = pytest.mark.django_db


@pytest.fixture
def used_grant(ask, secret_at, carol, erin, alice, openbao, kv_prefix):
    """A break-glass grant whose token read the approved path twice and was refused elsewhere."""
    inside = secret_at("payments/db", "recorded-value")
    secret_at("other/db")
    access = ask(inside)
    approve.do_approve(access.pk, actor=carol.user, code=carol.code())
    approve.do_approve(access.pk, actor=erin.user, code=erin.code())
    grant = Grant.objects.get(request=access)
    token = grants.do_reveal(grant.pk, actor=alice.user, code=alice.code())
    client = hvac.Client(url=openbao.url, token=token)
    kv = client.secrets.kv.v2
    kv.read_secret_version(
        path=f"{kv_prefix}/payments/db", mount_point="secret", raise_on_deleted_version=True
    )
    with pytest.raises(hvac.exceptions.Forbidden):
        kv.read_secret_version(
            path=f"{kv_prefix}/other/db", mount_point="secret", raise_on_deleted_version=True
        )
    kv.read_secret_version(
        path=f"{kv_prefix}/payments/db", mount_point="secret", raise_on_deleted_version=True
    )
    return grant


def timeline(grant):
    return list(grant.events.order_by("at", "audit_offset").values_list("operation", "path", "result"))


def test_the_timeline_holds_the_tokens_requests_in_order(used_grant, openbao, kv_prefix):
    counts = recording.read_audit_log(str(openbao.audit_log))
    assert counts["events"] >= 3
    inside, outside = f"secret/data/{kv_prefix}/payments/db", f"secret/data/{kv_prefix}/other/db"
    assert timeline(used_grant) == [
        ("read", inside, "ok"),
        ("read", outside, "denied"),
        ("read", inside, "ok"),
    ]
    event = used_grant.events.first()
    assert event.client_address == "127.0.0.1"
    # nothing of the value: the audit device HMACs it, and we keep only path and outcome
    assert "recorded-value" not in str(list(SessionEvent.objects.values()))


def test_a_restarted_reader_neither_repeats_nor_skips(used_grant, openbao, kv_prefix, root):
    path = str(openbao.audit_log)
    recording.read_audit_log(path)
    first = timeline(used_grant)
    assert recording.read_audit_log(path)["events"] == 0  # a second pass (a restart) adds nothing
    assert timeline(used_grant) == first
    AuditCursor.objects.filter(path=path).update(offset=0)  # a crash that lost the offset
    recording.read_audit_log(path)
    assert timeline(used_grant) == first  # the unique (file, offset) keeps each line once


def test_half_a_line_waits_for_its_end(tmp_path, used_grant, openbao):
    lines = openbao.audit_log.read_bytes().splitlines(keepends=True)
    copy = tmp_path / "audit.log"
    whole, last = b"".join(lines[:-1]), lines[-1]
    copy.write_bytes(whole + last[:10])  # OpenBao is still writing its last line
    recording.read_audit_log(str(copy))
    assert AuditCursor.objects.get(path=str(copy)).offset == len(whole)
    with copy.open("ab") as handle:
        handle.write(last[10:])
    recording.read_audit_log(str(copy))
    assert AuditCursor.objects.get(path=str(copy)).offset == len(whole) + len(last)


def test_a_rotated_file_is_read_from_its_start(tmp_path, used_grant, openbao):
    source = openbao.audit_log.read_bytes()
    copy = tmp_path / "audit.log"
    copy.write_bytes(source)
    recording.read_audit_log(str(copy))
    before = SessionEvent.objects.count()
    copy.rename(tmp_path / "audit.log.1")
    copy.write_bytes(source)  # a new file (another inode) with the same lines: new positions
    recording.read_audit_log(str(copy))
    assert AuditCursor.objects.get(path=str(copy)).offset == len(source)
    assert SessionEvent.objects.count() == 2 * before
