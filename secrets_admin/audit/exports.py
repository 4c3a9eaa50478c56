"""Streamed CSV and JSON exports of audit entries.

`do_export()` records the `audit.exported` entry (with the filter used) in its own transaction,
then returns an async iterator of text chunks. Rows come from the database CHUNK at a time
(keyset on sequence) so an export of a million entries never sits in memory, and under ASGI
(Daphne) Django streams an async iterator without buffering it. An export holds the
matching entries that precede its own `audit.exported` entry, in chain order, with their
prev_hash and hash so that anyone can re-verify the exported chain.
"""

import csv
import io
import json

from asgiref.sync import sync_to_async
from django.db import connections, transaction
from django.utils import timezone

from secrets_admin.audit import actions, chain
from secrets_admin.audit.services import record

CHUNK = 2000
FORMATS = {"csv": "text/csv; charset=utf-8", "json": "application/json"}
# Cells a spreadsheet would run as a formula get a leading apostrophe (OWASP CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def do_export(*, actor, fmt: str, queryset, filters: dict, request=None):
    """Audit the export, then return (entry, async iterator of str chunks).

    Raises ValueError for an unknown format. `queryset` is the already filtered AuditEntry
    queryset; `filters` the JSON-safe filter values to record.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    with transaction.atomic():
        entry = record(
            actions.EXPORTED, actor=actor, data={"format": fmt, "filter": filters}, request=request
        )
    rows = queryset.filter(sequence__lt=entry.sequence).order_by("sequence").values_list(*chain.FIELDS)
    render = _csv_chunks if fmt == "csv" else _json_chunks
    return entry, _closing(render(rows, entry, filters))


async def _closing(chunks):
    """Close the database connections of the thread that streamed the rows when done (also on a
    client disconnect): under ASGI that is a per-request thread, whose connection would
    otherwise stay open after the thread is gone."""
    try:
        async for chunk in chunks:
            yield chunk
    finally:
        await sync_to_async(connections.close_all)()


def _chunk(rows, after: int) -> list:
    return list(rows.filter(sequence__gt=after)[:CHUNK])


async def _stream(rows):
    """The rows CHUNK at a time by keyset (sequence > last seen): each chunk is one indexed
    range scan, and no cursor or transaction stays open between chunks."""
    after = 0
    while True:
        chunk = await sync_to_async(_chunk)(rows, after)
        for row in chunk:
            yield row
        if len(chunk) < CHUNK:
            return
        after = chunk[-1][0]


def _entry_dict(row) -> dict:
    document = dict(zip(chain.FIELDS, row, strict=True))
    document["created_at"] = chain.format_time(document["created_at"])
    return document


def _safe_cell(value):
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, ensure_ascii=False)
    return "'" + text if text.startswith(_FORMULA_START) else text


async def _csv_chunks(rows, entry, filters):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(chain.FIELDS)
    count = 0
    async for row in _stream(rows):
        document = _entry_dict(row)
        writer.writerow([_safe_cell(document[name]) for name in chain.FIELDS])
        count += 1
        if count % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


async def _json_chunks(rows, entry, filters):
    header = {
        "exported_at": chain.format_time(timezone.now()),
        "export_entry": entry.sequence,
        "filter": filters,
        "canonical_form": "sha256 of JSON with sorted keys, separators (',', ':'), UTF-8, "
        "times as UTC ISO 8601 with microseconds and Z, over every field but 'hash'",
    }
    opening = json.dumps(header, ensure_ascii=False)[:-1]
    yield opening + ', "entries": ['
    parts, first = [], True
    async for row in _stream(rows):
        parts.append(("" if first else ",") + "\n" + json.dumps(_entry_dict(row), ensure_ascii=False))
        first = False
        if len(parts) >= 500:
            yield "".join(parts)
            parts = []
    yield "".join(parts) + "\n]}\n"
