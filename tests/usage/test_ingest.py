"""The shared audit-file reader fills the hourly rollup from OpenBao's real file audit device:
real requests made with hvac, counted once per request, metadata only."""

import json

import hvac
import pytest

from breakglass.models import AuditCursor
from breakglass.services import recording
from secrets_admin.inventory.models import Secret
from secrets_admin.usage.models import HourlyAccess, IngestMark, LastRead
from secrets_admin.usage.services import ingest

pytestmark = pytest.mark.django_db

VALUE = "usage-test-value-never-stored"


@pytest.fixture
def reader(openbao, kv_prefix):
    """A token with its own display name that read one KV secret 3 times and listed its folder."""
    root = hvac.Client(url=openbao.url, token=openbao.token)
    key = f"{kv_prefix}/app/db"
    root.secrets.kv.v2.create_or_update_secret(path=key, secret={"value": VALUE}, mount_point="secret")
    secret = Secret.objects.create(backend="vault", path=f"secret/{key}", name="db")
    token = root.auth.token.create(policies=["root"], display_name=f"usage-{kv_prefix}", ttl="10m")
    client = hvac.Client(url=openbao.url, token=token["auth"]["client_token"])
    for _ in range(3):
        client.secrets.kv.v2.read_secret_version(
            path=key, mount_point="secret", raise_on_deleted_version=True
        )
    client.secrets.kv.v2.list_secrets(path=f"{kv_prefix}/app", mount_point="secret")
    return secret, f"token-usage-{kv_prefix}"


def mine(kv_prefix):
    return HourlyAccess.objects.filter(path__contains=kv_prefix)


def test_each_request_is_counted_once_per_hour_path_identity_and_operation(reader, openbao, kv_prefix):
    secret, identity = reader
    recording.read_audit_log(str(openbao.audit_log))
    reads = mine(kv_prefix).get(operation="read", identity=identity)
    assert (reads.path, reads.secret_id, reads.count) == (secret.path, secret.pk, 3)  # data/ -> the secret
    assert reads.hour.minute == 0 and not reads.demo
    lists = mine(kv_prefix).get(operation="list", identity=identity)
    assert lists.path == f"secret/metadata/{kv_prefix}/app" and lists.count == 1
    assert lists.secret_id is None
    assert LastRead.objects.get(path=secret.path).last_read_at >= reads.hour
    # metadata only: the value, and the request/response bodies, are nowhere in the rollup
    assert VALUE not in str(list(HourlyAccess.objects.values())) + str(list(LastRead.objects.values()))


def test_a_restart_neither_repeats_nor_skips_and_a_rotated_file_counts_anew(
    reader, openbao, kv_prefix, tmp_path
):
    _, identity = reader
    path = str(openbao.audit_log)
    recording.read_audit_log(path)
    recording.read_audit_log(path)  # a second pass (a restarted reader) adds nothing
    assert mine(kv_prefix).get(operation="read", identity=identity).count == 3

    rotated = tmp_path / "audit.log"
    lines = openbao.audit_log.read_bytes().splitlines(keepends=True)
    whole, last = b"".join(lines[1:-1]), lines[-1]  # another first line: another file
    rotated.write_bytes(whole + last[:7])  # OpenBao still writing its last line
    recording.read_audit_log(str(rotated))
    assert AuditCursor.objects.get(path=str(rotated)).offset == len(whole)
    assert mine(kv_prefix).get(operation="read", identity=identity).count == 6  # its lines
    assert IngestMark.objects.get(path=str(rotated)).offset == len(whole)  # the rollup's own mark
    assert IngestMark.objects.get(path=path).offset == AuditCursor.objects.get(path=path).offset


def test_a_lost_offset_reads_again_but_counts_nothing_twice(reader, openbao, kv_prefix):
    _, identity = reader
    path = str(openbao.audit_log)
    recording.read_audit_log(path)
    before = dict(mine(kv_prefix).values_list("operation", "count"))
    assert before["read"] == 3 and before["list"] == 1
    AuditCursor.objects.filter(path=path).update(offset=0)  # a crash that lost the offset
    assert recording.read_audit_log(path)["lines"] > 0  # the reader did read the file again
    assert dict(mine(kv_prefix).values_list("operation", "count")) == before
    AuditCursor.objects.filter(path=path).delete()  # the cursor row itself gone
    recording.read_audit_log(path)
    assert dict(mine(kv_prefix).values_list("operation", "count")) == before


def test_a_copy_of_the_file_under_another_name_adds_nothing(reader, openbao, kv_prefix, tmp_path):
    """A moved or restored file is the same file (its first line), whatever its inode or path."""
    _, identity = reader
    recording.read_audit_log(str(openbao.audit_log))
    copy = tmp_path / "restored.log"
    copy.write_bytes(openbao.audit_log.read_bytes())
    assert recording.read_audit_log(str(copy))["lines"] > 0
    assert mine(kv_prefix).get(operation="read", identity=identity).count == 3


def test_new_lines_after_a_re_read_are_counted_once(reader, openbao, kv_prefix, tmp_path):
    _, identity = reader
    lines = openbao.audit_log.read_bytes().splitlines(keepends=True)
    reads = [
        i
        for i, entry in enumerate(map(json.loads, lines))
        if entry["type"] == "response" and entry["request"]["path"] == f"secret/data/{kv_prefix}/app/db"
        and entry["request"]["operation"] == "read"
    ]  # fmt: skip
    assert len(reads) == 3
    cut = reads[1]  # the first read's response is in, the others are not yet written
    growing = tmp_path / "growing.log"
    growing.write_bytes(b"".join(lines[:cut]))
    recording.read_audit_log(str(growing))
    assert mine(kv_prefix).get(operation="read", identity=identity).count == 1
    AuditCursor.objects.filter(path=str(growing)).update(offset=0)  # lost, and then the file grows
    growing.write_bytes(b"".join(lines))
    recording.read_audit_log(str(growing))
    assert mine(kv_prefix).get(operation="read", identity=identity).count == 3


def test_reads_counted_before_the_secret_was_known_are_linked_later(openbao, kv_prefix):
    root = hvac.Client(url=openbao.url, token=openbao.token)
    key = f"{kv_prefix}/later"
    root.secrets.kv.v2.create_or_update_secret(path=key, secret={"value": VALUE}, mount_point="secret")
    root.secrets.kv.v2.read_secret_version(path=key, mount_point="secret", raise_on_deleted_version=True)
    recording.read_audit_log(str(openbao.audit_log))
    row = mine(kv_prefix).get(operation="read", path=f"secret/{key}")
    assert row.secret_id is None
    secret = Secret.objects.create(backend="vault", path=f"secret/{key}", name="later")
    assert ingest.link_secrets() >= 1
    row.refresh_from_db()
    assert row.secret_id == secret.pk


def test_kv_value_paths_name_the_secret_and_other_paths_stay_as_they_are():
    assert ingest.secret_path("secret/data/payments/db") == "secret/payments/db"
    assert ingest.secret_path("secret/metadata/payments/db") == "secret/metadata/payments/db"
    assert ingest.secret_path("database/creds/app") == "database/creds/app"
    assert ingest.secret_path("sys/health") == "sys/health"
