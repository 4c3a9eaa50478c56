"""Evidence export: the zip verifies offline, and fails verification after one byte is changed
(in a CSV, in the summary, in the proof); the chain is recomputed from the entries; export and
verify are audited; bad ranges are form errors."""

import io
import os
import subprocess
import sys
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from secrets_admin.audit import actions as audit_actions
from secrets_admin.audit import sequencer, verification
from secrets_admin.audit.models import AuditEntry
from secrets_admin.audit.services import record
from secrets_admin.compliance import verifier
from tests.compliance.conftest import break_glass, grant, person, secret

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def exported(manager_client):
    from secrets_admin.rotation.models import RotationRun

    carol, device = person("carol", "security-team")
    erin, erin_device = person("erin", "cto")
    alice, _ = person("alice", "developers")
    g = grant(break_glass(alice, [(carol, device, "security-team"), (erin, erin_device, "cto")]))
    type(g).objects.filter(pk=g.pk).update(sealed_token="SEALED-TOKEN-CANARY")
    RotationRun.objects.create(secret=secret("secret/app/api"), strategy="blue-green", state="finished")
    for n in range(5):
        with transaction.atomic():
            record(
                audit_actions.EXPORTED,
                actor="=formula" if n == 0 else "test",
                data={"format": "csv", "filter": {"n": n}},
            )
    sequencer.link()
    assert verification.verify(full=True).ok
    today = timezone.now().date()
    response = manager_client.post(
        "/compliance/export/", {"framework": "soc2", "start": today - timedelta(days=89), "end": today}
    )
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    return b"".join(response.streaming_content)


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def rezip(files: dict[str, bytes]) -> io.BytesIO:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    out.seek(0)
    return out


def flip(content: bytes, at: int) -> bytes:
    return content[:at] + bytes([content[at] ^ 0x01]) + content[at + 1 :]


def test_the_export_verifies_and_is_audited(exported):
    files = members(exported)
    assert set(files) == {
        "controls.csv", "failing-items.csv", "rotation-runs.csv", "access-requests.csv", "approvals.csv",
        "grants.csv", "audit-entries.csv", "proof.json", "summary.json", "manifest.json",
    }  # fmt: skip
    report = verifier.verify(io.BytesIO(exported))
    assert report.code == 0, report.problems
    assert report.entries >= 6 and report.anchors >= 1
    assert any("matches the end anchor" in line for line in report.lines)
    assert b"SEALED-TOKEN-CANARY" not in b"".join(files.values())
    started = AuditEntry.objects.get(action="compliance.evidence.exported")
    assert started.data["framework"] == "soc2" and started.actor_name == "frank"
    done = AuditEntry.objects.get(action="compliance.evidence.completed")
    assert done.data["manifest_sha256"] == report.manifest_sha256
    assert (
        b",'=formula," in files["audit-entries.csv"]
    )  # a formula-looking cell is escaped, and still verifies


@pytest.mark.parametrize("name", ["rotation-runs.csv", "summary.json", "proof.json", "audit-entries.csv"])
def test_one_changed_byte_fails_verification(exported, name):
    files = members(exported)
    files[name] = flip(files[name], len(files[name]) // 2)
    report = verifier.verify(rezip(files))
    assert report.code == 1 and any(name in p for p in report.problems), report.problems


def test_a_flipped_byte_in_the_zip_itself_fails(exported):
    report = verifier.verify(io.BytesIO(flip(exported, len(exported) // 2)))
    assert report.code in (1, 2) and report.problems


def test_a_rewritten_entry_with_a_matching_manifest_still_fails_the_chain(exported):
    """Someone edits an entry and fixes the manifest: the recomputed chain names the entry."""
    import hashlib
    import json

    files = members(exported)
    lines = files["audit-entries.csv"].decode().split("\n")
    at = next(i for i, line in enumerate(lines) if ",test," in line)
    lines[at] = lines[at].replace(",test,", ",tset,", 1)
    files["audit-entries.csv"] = "\n".join(lines).encode()
    manifest = json.loads(files["manifest.json"])
    manifest["files"]["audit-entries.csv"] = {
        "sha256": hashlib.sha256(files["audit-entries.csv"]).hexdigest(),
        "bytes": len(files["audit-entries.csv"]),
    }
    files["manifest.json"] = json.dumps(manifest).encode()
    report = verifier.verify(rezip(files))
    assert report.code == 1 and "was altered" in report.problems[0]


def test_not_an_export_is_exit_2(tmp_path):
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip")
    assert verifier.verify(junk).code == 2
    assert verifier.verify(rezip({"a.txt": b"x"})).code == 2


def test_the_command_verifies_offline_without_a_database(exported, tmp_path):
    path = tmp_path / "evidence.zip"
    path.write_bytes(exported)
    env = {
        **os.environ,
        "DATABASE_URL": "postgres://nobody@127.0.0.1:9/none",
        "VAULT_ADDR": "http://127.0.0.1:9",
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "verify_evidence", str(path)], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "evidence verified" in done.stdout and "not recorded in the audit log" in done.stderr
    files = members(exported)
    files["grants.csv"] = flip(files["grants.csv"], 5)
    bad = tmp_path / "bad.zip"
    bad.write_bytes(rezip(files).getvalue())
    done = subprocess.run(
        [sys.executable, "manage.py", "verify_evidence", str(bad)], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1 and "FAILED: grants.csv does not match the manifest" in done.stderr


def test_the_command_with_a_database_is_audited(exported, tmp_path, capsys):
    path = tmp_path / "evidence.zip"
    path.write_bytes(exported)
    with pytest.raises(SystemExit) as caught:
        call_command("verify_evidence", str(path))
    assert caught.value.code == 0
    out = capsys.readouterr().out
    assert "this console's audit log records this export" in out
    entry = AuditEntry.objects.get(action="compliance.evidence.verified")
    assert entry.data["outcome"] == "verified" and entry.actor_name.startswith("cli:")


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (0, -1, "The end is before the start"),
        (-1, 2, "The end is in the future"),
        (-400, 0, "At most 366 days per export"),
        ("nonsense", 0, "Enter a valid date"),
    ],
)
def test_a_bad_range_is_a_form_error_and_nothing_is_exported(manager_client, start, end, message):
    today = timezone.now().date()

    def day(d):
        return d if isinstance(d, str) else today + timedelta(days=d)

    response = manager_client.post(
        "/compliance/export/", {"framework": "soc2", "start": day(start), "end": day(end)}
    )
    assert response.status_code == 400 and message in response.content.decode()
    assert not AuditEntry.objects.filter(action="compliance.evidence.exported").exists()


def test_the_export_streams_through_the_asgi_handler(db):
    """As Daphne serves it: an async iterator of zip chunks, the database read on the sync thread."""
    from asgiref.sync import async_to_sync
    from django.test import AsyncClient

    user, _ = person("frank", "managers", device=False)
    for n in range(3):
        with transaction.atomic():
            record(audit_actions.EXPORTED, actor="test", data={"format": "csv", "filter": {"n": n}})
    sequencer.link()
    client = AsyncClient()
    client.force_login(user)
    today = timezone.now().date()

    async def post():
        response = await client.post(
            "/compliance/export/", {"framework": "gdpr", "start": today, "end": today}
        )
        return response, [chunk async for chunk in response.streaming_content]

    response, chunks = async_to_sync(post)()
    assert response.status_code == 200 and len(chunks) > 1
    report = verifier.verify(io.BytesIO(b"".join(chunks)))
    assert report.code == 0, report.problems
    assert report.entries >= 4
