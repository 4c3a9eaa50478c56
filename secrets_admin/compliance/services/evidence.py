"""Evidence export: one zip per framework and date range, streamed as it is written.

`start_export()` records `compliance.evidence.exported` (its own short transaction) before the
first byte, anchors the chain head (outside any transaction), and returns the export and an
iterator of zip chunks (async under ASGI). The zip holds:

    controls.csv, failing-items.csv   the framework's controls and what fails, measured now
    rotation-runs.csv, access-requests.csv, approvals.csv, grants.csv   the range's records
    audit-entries.csv                 the chain segment covering the range (proof.py)
    proof.json                        first/last entry hashes of the segment and the anchors
    summary.json                      scores, statuses, numbers, row counts, notes
    manifest.json                     sha256 and size of every other file (written last)

When the last byte is written, `compliance.evidence.completed` records the manifest's sha256,
so `verify_evidence` run next to the console can say that this console made that zip.
"""

import csv
import hashlib
import io
import zipfile
from dataclasses import dataclass
from datetime import datetime

from asgiref.sync import sync_to_async
from django.db import connection, connections, transaction
from django.utils import timezone

from secrets_admin.audit import chain, sequencer
from secrets_admin.audit.exports import CANONICAL_FORM
from secrets_admin.audit.services import actor_name, record
from secrets_admin.compliance import actions, mapping
from secrets_admin.compliance.measures import Period
from secrets_admin.compliance.services import deflate, entries, proof, scoring, tables

FORMAT = "candlefish-evidence/1"
ITEM_LIMIT = 5000  # failing items listed per measure (the counts are always complete)
ESCAPING = "a cell starting with = + - @ tab, CR or ' carries one extra leading ' (take exactly one off)"


@dataclass
class Export:
    framework: mapping.Framework
    start: datetime
    end: datetime
    entry_sequence: int
    actor: str

    @property
    def filename(self) -> str:
        return f"evidence-{self.framework.id}-{self.start:%Y%m%d}-{self.end:%Y%m%d}-{self.entry_sequence}.zip"


class _Sink(io.RawIOBase):
    """Where zipfile writes: kept until taken. No tell/seek, so zipfile streams (data
    descriptors after each member) instead of seeking back."""

    def __init__(self):
        self.parts: list[bytes] = []

    def writable(self):
        return True

    def write(self, data):
        self.parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        return data


class _Member:
    """One file of the zip being written: hashes and counts what goes in."""

    def __init__(self, archive: zipfile.ZipFile, name: str, manifest: dict, *, threads: int = 0):
        self.name, self.manifest = name, manifest
        info = zipfile.ZipInfo(name, date_time=timezone.now().timetuple()[:6])
        info.compress_type = zipfile.ZIP_DEFLATED
        info._compresslevel = deflate.LEVEL
        self.handle = archive.open(info, "w", force_zip64=True)
        if threads:
            deflate.install(self.handle, threads)
        self.digest, self.size = hashlib.sha256(), 0

    def write(self, data: bytes):
        self.digest.update(data)
        self.size += len(data)
        self.handle.write(data)

    def close(self):
        self.handle.close()
        self.manifest[self.name] = {"sha256": self.digest.hexdigest(), "bytes": self.size}


def start_export(
    *, framework_id: str, start: datetime, end: datetime, actor, request=None, asynchronous=False
):
    """Audit the export, anchor the head, and return (Export, iterator of bytes chunks).

    Raises ValueError for an unknown framework or an empty range."""
    framework = mapping.frameworks().framework(framework_id)
    if framework is None:
        raise ValueError(f"unknown framework {framework_id!r}")
    if not start < end:
        raise ValueError("the range must end after it starts")
    with transaction.atomic():
        entry = record(
            actions.EVIDENCE_EXPORTED,
            actor=actor,
            data={
                "framework": framework.id,
                "start": chain.format_time(start),
                "end": chain.format_time(end),
            },
            request=request,
        )
    sequencer.link()
    entry.refresh_from_db(fields=["sequence"])
    export = Export(framework, start, end, entry.sequence or 0, actor_name(actor))
    chunks = _chunks(export, actor)
    return export, (_async(chunks) if asynchronous else chunks)


async def _async(chunks):
    try:
        while True:
            chunk = await sync_to_async(next)(chunks, None)
            if chunk is None:
                return
            yield chunk
    finally:  # a client gone halfway: stop the entry readers too (services/entries.py)
        await sync_to_async(chunks.close)()
        await sync_to_async(connections.close_all)()


def _csv_member(archive, name, header, rows, manifest, sink, counts):
    member = _Member(archive, name, manifest)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    n = 0
    for row in rows:
        writer.writerow(row)
        n += 1
        if n % 2000 == 0:
            member.write(buffer.getvalue().encode())
            buffer.seek(0)
            buffer.truncate()
            yield sink.take()
    member.write(buffer.getvalue().encode())
    member.close()
    counts[name] = n
    yield sink.take()


def _copy_member(archive, name, header, spans, manifest, sink, counts):
    """A CSV the database writes itself (PostgreSQL COPY, services/entries.py): each span goes
    into the zip as it comes, deflated on two threads while the readers fetch the next ones."""
    member = _Member(archive, name, manifest, threads=2)
    member.write((",".join(header) + "\n").encode())
    lines = 0
    for span in spans:
        member.write(span)
        lines += span.count(b"\n")
        yield sink.take()
    member.close()
    counts[name] = lines  # rows, as long as no cell holds a line break (a note, not a proof)
    yield sink.take()


def _chunks(export: Export, actor):
    now = timezone.now()
    segment = proof.segment_for(export.start, export.end)
    (result,) = scoring.evaluate(
        Period(export.start, export.end, now), frameworks=[export.framework.id], limit=ITEM_LIMIT
    )
    sink, manifest, counts = _Sink(), {}, {}
    archive = zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1)
    controls, items = tables.control_results([result])
    parts = [
        ("controls.csv", controls[0], iter(controls[1:])),
        ("failing-items.csv", items[0], iter(items[1:])),
        ("rotation-runs.csv", *tables.rotation_runs(export.start, export.end)),
        ("access-requests.csv", *tables.access_requests(export.start, export.end)),
        ("approvals.csv", *tables.approvals(export.start, export.end)),
        ("grants.csv", *tables.grants(export.start, export.end)),
    ]
    for name, header, rows in parts:
        yield from _csv_member(archive, name, header, rows, manifest, sink, counts)
    if connection.vendor == "postgresql":
        spans = entries.csv_spans(segment.first, segment.last)
        yield from _copy_member(archive, "audit-entries.csv", chain.FIELDS, spans, manifest, sink, counts)
    else:
        rows = tables.audit_entries(segment.first, segment.last)
        yield from _csv_member(archive, "audit-entries.csv", chain.FIELDS, rows, manifest, sink, counts)
    counts["audit-entries.csv"] = segment.entries
    proof_document = {
        "format": FORMAT,
        "range": {"start": chain.format_time(export.start), "end": chain.format_time(export.end)},
        "segment": segment.as_dict(),
        "canonical_form": CANONICAL_FORM,
        "csv_escaping": ESCAPING,
        "proves": "the entries of audit-entries.csv link into one unbroken chain whose hashes "
        "match the anchors listed, "
        "which were read from OpenBao at export time",
    }
    summary = {
        "format": FORMAT,
        "framework": {
            "id": export.framework.id,
            "name": export.framework.name,
            "edition": export.framework.edition,
        },
        "range": proof_document["range"],
        "generated_at": chain.format_time(now),
        "exported_by": export.actor,
        "export_entry": export.entry_sequence,
        "score": result.score,
        "counts": result.counts,
        "controls": [
            {
                "id": c.control.id,
                "title": c.control.title,
                "status": c.status,
                "measures": {
                    r.measure: {"status": r.status, "summary": r.summary, "numbers": r.numbers}
                    for r in c.results
                },
            }
            for c in result.controls
        ],
        "rows": counts,
        "segment": segment.as_dict(),
        "notes": [
            "Rotation, MFA, certificate expiry and the ledger's state are measured at generated_at; "
            "break-glass approvals and grants over the range.",
            "Metadata only: no secret value, token, accessor or key is in this export.",
        ]
        + ([segment.note] if segment.note else []),
    }
    for name, document in (("proof.json", proof_document), ("summary.json", summary)):
        member = _Member(archive, name, manifest)
        member.write(tables.dumps(document))
        member.close()
    manifest_bytes = tables.dumps({"format": FORMAT, "algorithm": "sha256", "files": manifest})
    with archive.open(zipfile.ZipInfo("manifest.json", date_time=now.timetuple()[:6]), "w") as handle:
        handle.write(manifest_bytes)
    archive.close()
    yield sink.take()
    with transaction.atomic():
        record(
            actions.EVIDENCE_COMPLETED,
            actor=actor,
            data={
                "framework": export.framework.id,
                "export_entry": export.entry_sequence,
                "manifest_sha256": hashlib.sha256(manifest_bytes).hexdigest(),
                "entries": segment.entries,
            },
        )
