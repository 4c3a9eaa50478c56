"""Session recording: OpenBao's file audit device, tailed from a stored position.

OpenBao writes one JSON object per line, a "request" and a "response" entry per request. The
device keeps accessors in clear (`hmac_accessor = "false"`), so a line names the grant it belongs
to. We keep the response entries (they carry the outcome) of accessors the console issued.

Exactly once: the cursor row is locked while a batch is read, and the events of the batch and
the new offset commit together. A reader that dies mid-batch leaves the offset where it was and
the next one reads the same lines again; a unique (file, offset) per event is the backstop. Only
whole lines count: a line still being written (no newline yet) waits for the next pass. A file
that was rotated (another inode, or shorter than the offset) is read from its start.

One reader for every use of the file: the grant timelines here, and whatever registered a
consumer (`add_consumer`; the usage app's hourly access rollup). Each consumer gets the batch's
response entries (parsed once) and where they stand in the file (`Batch`) inside the batch's
transaction, so its rows and the offset commit together too, and a consumer can tell a line it
already counted when a lost offset makes the reader read it again.
"""

import hashlib
import json
import logging
import os
import re
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from breakglass import live
from breakglass.models import AuditCursor, Grant, SessionEvent

log = logging.getLogger(__name__)
BATCH_BYTES = 4 * 1024 * 1024
CONSUMERS: list = []


@dataclass
class Batch:
    """Where a batch's entries stand in the audit file."""

    path: str
    file_id: str  # device:inode
    fingerprint: str  # sha256 of the file's first line: the same file whatever its inode or path
    offsets: list[int]  # each entry's line start, parallel to the entries
    end: int  # the offset after the batch's last line


def add_consumer(consume) -> None:
    """`consume(entries, batch)` is called with the response entries (dicts as OpenBao wrote
    them) of each batch and its `Batch`, inside its transaction. It must keep only metadata,
    never `data` fields."""
    if consume not in CONSUMERS:
        CONSUMERS.append(consume)


def _file_id(stat) -> str:
    return f"{stat.st_dev}:{stat.st_ino}"


def read_audit_log(path: str | None = None, *, max_batches: int = 50) -> dict:
    """Read what is new in the audit file into grant timelines. Returns counts."""
    path = path if path is not None else settings.BREAKGLASS_AUDIT_LOG
    counts = {"lines": 0, "events": 0}
    if not path:
        return counts
    touched: set[int] = set()
    for _ in range(max_batches):
        lines, events = _batch(path, touched)
        counts["lines"] += lines
        counts["events"] += events
        if not lines:
            break
    if touched:
        live.session_changed(touched)
    return counts


def _batch(path: str, touched: set) -> tuple[int, int]:
    with transaction.atomic():
        AuditCursor.objects.get_or_create(path=path)
        cursor = AuditCursor.objects.select_for_update().get(path=path)
        try:
            handle = open(path, "rb")  # noqa: SIM115 (closed below)
        except FileNotFoundError:
            return 0, 0
        with handle:
            stat = os.fstat(handle.fileno())
            file_id = _file_id(stat)
            if cursor.file_id != file_id or stat.st_size < cursor.offset:
                cursor.file_id, cursor.offset = file_id, 0  # a new file: from its start
            fingerprint = hashlib.sha256(handle.readline(1 << 20)).hexdigest()
            handle.seek(cursor.offset)
            chunk = handle.read(BATCH_BYTES)
        end = chunk.rfind(b"\n")
        if end < 0:
            if cursor.file_id != AuditCursor.objects.get(pk=cursor.pk).file_id:
                cursor.save(update_fields=["file_id", "offset"])
            return 0, 0
        chunk = chunk[: end + 1]
        events, lines, entries, offsets = [], 0, [], []
        accessors = _accessors()
        position = cursor.offset
        for raw in chunk.split(b"\n")[:-1]:
            lines += 1
            entry = _entry(raw)
            if entry is not None:
                entries.append(entry)
                offsets.append(position)
            event = _event(entry, accessors) if entry is not None else None
            if event is not None:
                event.audit_file, event.audit_offset = file_id, position
                events.append(event)
                touched.add(event.grant_id)
            position += len(raw) + 1
        SessionEvent.objects.bulk_create(events, ignore_conflicts=True)
        batch = Batch(path, file_id, fingerprint, offsets, cursor.offset + len(chunk))
        for consume in CONSUMERS:
            consume(entries, batch)
        cursor.offset += len(chunk)
        cursor.lines += lines
        cursor.save(update_fields=["file_id", "offset", "lines", "updated_at"])
    return lines, len(events)


def _accessors() -> dict[str, int]:
    """accessor -> grant id, for every grant that ever had a token (tokens die; lines stay) and
    whose requester left session recording on."""
    grants = Grant.objects.exclude(accessor="").filter(request__record_session=True)
    return dict(grants.values_list("accessor", "id"))


def _entry(raw: bytes) -> dict | None:
    """A response entry (one per request served), or None for request entries and junk."""
    try:
        entry = json.loads(raw)
    except ValueError:
        log.warning("an audit line is not JSON; skipped")
        return None
    if not isinstance(entry, dict) or entry.get("type") != "response":
        return None
    return entry


def _event(entry: dict, accessors: dict) -> SessionEvent | None:
    auth = entry.get("auth") or {}
    grant_id = accessors.get(auth.get("accessor") or "")
    if grant_id is None:
        return None
    req = entry.get("request") or {}
    error = str(entry.get("error") or "")
    result = "ok" if not error else ("denied" if "permission denied" in error else "error")
    return SessionEvent(
        grant_id=grant_id,
        at=entry_time(entry.get("time")),
        path=str(req.get("path") or "")[:1024],
        operation=str(req.get("operation") or "")[:20],
        result=result,
        error=" ".join(error.split())[:300],
        client_address=str(req.get("remote_address") or "")[:64],
    )


_TIME = re.compile(r"^(\S+T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$")


def entry_time(text) -> datetime:
    """OpenBao's RFC 3339 time with nanoseconds; Python takes microseconds."""
    match = _TIME.match(str(text or ""))
    if match:
        whole, fraction, zone = match.groups()
        zone = "+00:00" if zone == "Z" else zone
        try:
            return datetime.fromisoformat(f"{whole}.{(fraction or '0')[:6].ljust(6, '0')}{zone}")
        except ValueError:
            pass
    return timezone.now()
