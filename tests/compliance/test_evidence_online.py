"""Online verification (`verify_evidence --online`): a zip rewritten together with its anchors
passes the offline checks but fails against the anchors the real OpenBao holds."""

import csv
import hashlib
import io
import json

import pytest
from django.core.management import call_command

from secrets_admin.audit import chain
from secrets_admin.audit.models import AuditEntry
from secrets_admin.compliance import online, verifier
from tests.compliance.test_evidence import exported, members, rezip  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


def forge(files: dict[str, bytes]) -> dict[str, bytes]:
    """What a forger who holds only the zip can do: rewrite one entry's actor, re-hash the chain
    from there on, write the anchors, the proof's hashes and the manifest to match."""
    rows = list(csv.reader(io.StringIO(files["audit-entries.csv"].decode(), newline="")))
    header, body = rows[0], rows[1:]
    at = next(i for i, row in enumerate(body) if row[2] == "test")
    body[at][2] = "tset"
    hashes = {}
    prev = body[at - 1][12] if at else body[0][11]
    for row in body[at:]:
        cells = [c[1:] if c.startswith("'") else c for c in row[2:9]]
        row[10] = chain.content_hash(row[1], *cells, json.loads(row[9]))
        row[11], row[12] = prev, chain.link_hash(int(row[0]), prev, row[10])
        prev = hashes[int(row[0])] = row[12]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *body])
    files["audit-entries.csv"] = out.getvalue().encode()
    proof, summary = json.loads(files["proof.json"]), json.loads(files["summary.json"])
    for anchor in proof["segment"]["anchors"]:
        anchor["hash"] = hashes.get(anchor["sequence"], anchor["hash"])
    proof["segment"]["first_hash"], proof["segment"]["last_hash"] = body[0][12], body[-1][12]
    summary["segment"] = proof["segment"]
    files["proof.json"], files["summary.json"] = json.dumps(proof).encode(), json.dumps(summary).encode()
    manifest = json.loads(files["manifest.json"])
    for name in ("audit-entries.csv", "proof.json", "summary.json"):
        manifest["files"][name] = {
            "sha256": hashlib.sha256(files[name]).hexdigest(),
            "bytes": len(files[name]),
        }
    files["manifest.json"] = json.dumps(manifest).encode()
    return files


def online_report(data) -> verifier.Report:
    return online.verify_anchors(io.BytesIO(data), verifier.verify(io.BytesIO(data)))


def test_a_genuine_export_passes_online(exported):  # noqa: F811
    report = online_report(exported)
    assert report.code == 0, report.problems
    assert any("the end anchor" in line and "is what OpenBao holds" in line for line in report.lines)


def test_a_zip_rewritten_with_its_anchors_passes_offline_and_fails_online(exported):  # noqa: F811
    forged = rezip(forge(members(exported))).getvalue()
    offline = verifier.verify(io.BytesIO(forged))
    assert offline.code == 0, offline.problems  # what offline verification cannot see
    report = online_report(forged)
    assert report.code == 1
    assert any("the end anchor" in p and "but OpenBao's version" in p for p in report.problems), (
        report.problems
    )


def test_an_anchor_naming_a_version_openbao_never_wrote_fails(exported):  # noqa: F811
    files = members(exported)
    proof = json.loads(files["proof.json"])
    proof["segment"]["anchors"][-1]["version"] = 999_999
    files["proof.json"] = json.dumps(proof).encode()
    report = online.verify_anchors(rezip(files), verifier.Report())
    assert any("holds no anchor version 999999" in p for p in report.problems), report.problems


def test_without_anchors_or_from_another_store_openbao_cannot_vouch(exported, settings):  # noqa: F811
    files = members(exported)
    proof = json.loads(files["proof.json"])
    anchors = proof["segment"]["anchors"]
    proof["segment"]["anchors"] = []
    files["proof.json"] = json.dumps(proof).encode()
    report = online.verify_anchors(rezip(files), verifier.Report())
    assert report.code == 1 and "lists no anchor" in report.problems[0]
    proof["segment"]["anchors"] = [{**a, "role": "start"} for a in anchors]  # none at the end
    files["proof.json"] = json.dumps(proof).encode()
    report = online.verify_anchors(rezip(files), verifier.Report())
    assert any("no anchor covers the end" in p for p in report.problems), report.problems
    settings.AUDIT_ANCHOR = "vault:audit-anchors/somewhere-else"
    report = online.verify_anchors(io.BytesIO(exported), verifier.Report())
    assert any("not this console's store" in p for p in report.problems), report.problems


def test_the_command_online_fails_the_forgery_and_audits_it(exported, tmp_path, capsys):  # noqa: F811
    good, bad = tmp_path / "good.zip", tmp_path / "forged.zip"
    good.write_bytes(exported)
    bad.write_bytes(rezip(forge(members(exported))).getvalue())
    with pytest.raises(SystemExit) as caught:
        call_command("verify_evidence", str(good), "--online")
    assert caught.value.code == 0
    with pytest.raises(SystemExit) as caught:
        call_command("verify_evidence", str(bad))
    assert caught.value.code == 0  # offline alone is fooled
    with pytest.raises(SystemExit) as caught:
        call_command("verify_evidence", str(bad), "--online")
    assert caught.value.code == 1
    assert "but OpenBao's version" in capsys.readouterr().err
    outcomes = AuditEntry.objects.filter(action="compliance.evidence.verified").order_by("pk")
    assert [(e.data["outcome"], e.data["online"]) for e in outcomes] == [
        ("verified", True),
        ("verified", False),
        ("failed", True),
    ]
