"""Offline verification of an evidence export: no database, no network, no Django.

    python -m secrets_admin.compliance.verifier evidence.zip     (or manage.py verify_evidence)

It checks, in order: every file the manifest lists is there, intact (zip CRC) and has the
listed sha256 and size, and nothing else is in the zip; proof.json and summary.json parse and
agree on the segment; every row of audit-entries.csv hashes to its content_hash (recomputed
from the canonical JSON of its fields) and links to the row before (prev_hash, then the chain
hash), with no gap from the segment's first to its last sequence; the first and last rows carry
the proof's hashes; and every anchor in the proof names an entry of the segment with exactly
the anchored hash. Exit codes: 0 verified, 1 verification failed, 2 not a readable export.
"""

import csv
import hashlib
import io
import json
import sys
import zipfile
import zlib
from dataclasses import dataclass, field

from secrets_admin.audit import chain

MANIFEST = "manifest.json"
ENTRIES = "audit-entries.csv"
READ = 1 << 20


@dataclass
class Report:
    code: int = 0  # 0 verified, 1 failed, 2 unreadable
    lines: list[str] = field(default_factory=list)  # what was checked, in words
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    manifest_sha256: str = ""
    entries: int = 0
    anchors: int = 0

    def fail(self, problem: str) -> "Report":
        self.problems.append(problem)
        self.code = max(self.code, 1)
        return self

    @property
    def outcome(self) -> str:
        return {0: "verified", 1: "failed", 2: "unreadable"}[self.code]


def _unusable(report: Report, problem: str) -> Report:
    report.problems.append(problem)
    report.code = 2
    return report


def _json(archive, name, report) -> dict | None:
    try:
        return json.loads(archive.read(name).decode("utf-8"))
    except (KeyError, UnicodeDecodeError, ValueError, zipfile.BadZipFile, zlib.error, OSError) as exc:
        report.fail(f"{name} cannot be read as JSON ({type(exc).__name__}: {exc})")
        return None


def _check_files(archive: zipfile.ZipFile, report: Report) -> dict | None:
    try:
        manifest_bytes = archive.read(MANIFEST)
        manifest = json.loads(manifest_bytes.decode("utf-8"))
        files = manifest["files"]
        assert isinstance(files, dict)
    except KeyError:
        return _unusable(report, f"no {MANIFEST}: this is not an evidence export") and None
    except (ValueError, AssertionError, TypeError, zipfile.BadZipFile, zlib.error, OSError) as exc:
        report.fail(f"{MANIFEST} is damaged ({type(exc).__name__}: {exc})")
        return None
    report.manifest_sha256 = hashlib.sha256(manifest_bytes).hexdigest()
    present = set(archive.namelist()) - {MANIFEST}
    for extra in sorted(present - set(files)):
        report.fail(f"{extra} is in the zip but not in the manifest")
    for name, listed in sorted(files.items()):
        if name not in present:
            report.fail(f"{name} is listed in the manifest but missing from the zip")
            continue
        digest, size = hashlib.sha256(), 0
        try:
            with archive.open(name) as handle:
                while block := handle.read(READ):
                    digest.update(block)
                    size += len(block)
        except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
            report.fail(f"{name} is corrupt in the zip ({exc})")
            continue
        if digest.hexdigest() != listed.get("sha256") or size != listed.get("bytes"):
            report.fail(
                f"{name} does not match the manifest: sha256 {digest.hexdigest()}, "
                f"listed {listed.get('sha256')}"
            )
    if report.code == 0:
        report.lines.append(
            f"{len(files)} files match the manifest's sha256 (manifest sha256 {report.manifest_sha256})"
        )
    return files


def _rows(handle, report: Report, anchored: dict, seen: dict):
    """audit-entries.csv rows as chain.verify_rows wants them; notes anchored sequences' hashes."""
    reader = csv.reader(io.TextIOWrapper(handle, encoding="utf-8", newline=""))
    header = next(reader, None)
    if header != list(chain.FIELDS):
        report.fail(f"{ENTRIES} has the header {header!r}, not {list(chain.FIELDS)!r}")
        return
    for number, row in enumerate(reader, start=2):
        try:
            sequence = int(row[0])
            data = json.loads(row[9])
        except (IndexError, ValueError) as exc:
            report.fail(f"{ENTRIES} line {number} is malformed ({exc})")
            return
        if len(row) != len(chain.FIELDS):
            report.fail(f"{ENTRIES} line {number} has {len(row)} cells, not {len(chain.FIELDS)}")
            return
        text = [cell[1:] if cell.startswith("'") else cell for cell in row[2:9]]
        if sequence in anchored:
            seen[sequence] = row[12]
        if "first" not in seen:
            seen["first"] = (sequence, row[11], row[12])
        seen["last"] = (sequence, row[12])
        yield (sequence, row[1], *text, data, row[10], row[11], row[12])


def _check_chain(archive, proof: dict, report: Report):
    segment = proof.get("segment") or {}
    anchors = proof.get("anchors") or segment.get("anchors") or []
    anchored = {}
    for anchor in anchors:
        try:
            anchored[int(anchor["sequence"])] = (
                str(anchor["hash"]),
                anchor.get("version"),
                anchor.get("role", ""),
            )
        except (KeyError, TypeError, ValueError):
            report.fail(f"proof.json has a malformed anchor: {anchor!r}")
    first, last = int(segment.get("first") or 0), int(segment.get("last") or 0)
    seen: dict = {}
    with archive.open(ENTRIES) as handle:
        rows = _rows(handle, report, anchored, seen)
        outcome = chain.verify_rows(
            rows, after=max(first - 1, 0), prev_hash=segment.get("first_prev_hash", chain.GENESIS)
        )
    if report.code:
        return
    if not outcome.ok:
        report.fail(
            f"{ENTRIES}: {outcome.problem}"
            + (f" (expected {outcome.expected}, found {outcome.found})" if outcome.expected else "")
        )
        return
    report.entries = outcome.entries
    if not first:
        if outcome.entries:
            report.fail(f"proof.json names no segment but {ENTRIES} holds {outcome.entries} entries")
        else:
            report.warnings.append("the range holds no audit entry: there is no chain to check")
        return
    if outcome.first != first or outcome.last != last:
        report.fail(f"{ENTRIES} holds #{outcome.first}..#{outcome.last}, the proof names #{first}..#{last}")
        return
    if seen["first"][2] != segment.get("first_hash") or seen["last"][1] != segment.get("last_hash"):
        report.fail("the first or last entry's hash differs from the proof's first_hash/last_hash")
        return
    report.lines.append(
        f"{outcome.entries} audit entries #{first}..#{last} recomputed from their canonical JSON: "
        "one unbroken chain"
    )
    for sequence, (digest, version, role) in sorted(anchored.items()):
        if sequence not in seen:
            report.fail(
                f"anchor v{version} names entry #{sequence}, which is not in the segment #{first}..#{last}"
            )
        elif seen[sequence] != digest:
            report.fail(
                f"entry #{sequence} has hash {seen[sequence]}, but anchor v{version} ({role}) holds {digest}"
            )
        else:
            report.anchors += 1
            report.lines.append(f"entry #{sequence} matches the {role} anchor (OpenBao version {version})")
    if not anchored:
        report.warnings.append(
            "no anchor in the proof: the chain is self-consistent, "
            "but nothing outside the database vouches for it"
        )
    elif not any(role == "end" for _, _, role in anchored.values()):
        report.warnings.append(
            "no anchor covers the end of the segment: its last entries are vouched for by the chain only"
        )


def verify(path) -> Report:
    """Verify the export at `path` (a file path or a binary file object)."""
    report = Report()
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        return _unusable(report, f"{path} is not a readable zip ({exc})")
    with archive:
        files = _check_files(archive, report)
        if files is None or report.code:
            return report
        proof = _json(archive, "proof.json", report)
        summary = _json(archive, "summary.json", report)
        if proof is None or summary is None:
            return report
        if summary.get("segment") != proof.get("segment"):
            return report.fail("summary.json and proof.json name different chain segments")
        if ENTRIES not in files:
            return report.fail(f"{ENTRIES} is not in the export")
        _check_chain(archive, proof, report)
        for note in summary.get("notes", [])[2:]:
            report.warnings.append(f"export note: {note}")
    return report


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m secrets_admin.compliance.verifier EXPORT.zip", file=sys.stderr)
        return 2
    report = verify(argv[0])
    for line in report.lines:
        print(f"ok: {line}")
    for line in report.warnings:
        print(f"warning: {line}")
    for line in report.problems:
        print(f"FAILED: {line}", file=sys.stderr)
    print(f"evidence {report.outcome}")
    return report.code


if __name__ == "__main__":
    sys.exit(main())
