"""The shared audit-file reader fills the hourly rollup from OpenBao's real file audit device:
real requests made with hvac, counted once per request, metadata only."""

import hvac
import pytest

from breakglass.models import AuditCursor
from breakglass.services import recording
from secrets_admin.inventory.models import Secret
from secrets_admin.usage.models import HourlyAccess, LastRead
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

    copy = tmp_path / "audit.log"
    lines = openbao.audit_log.read_bytes().splitlines(keepends=True)
    whole, last = b"".join(lines[:-1]), lines[-1]
    copy.write_bytes(whole + last[:7])  # OpenBao still writing its last line
    recording.read_audit_log(str(copy))
    assert AuditCursor.objects.get(path=str(copy)).offset == len(whole)
    assert mine(kv_prefix).get(operation="read", identity=identity).count == 6  # the copy's lines


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
