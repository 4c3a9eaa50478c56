"""Streamed CSV and JSON exports of audit entries.

`do_export()` records the `audit.exported` entry (with the filter used) in its own transaction,
then returns an iterator of text chunks: asynchronous for ASGI (Daphne streams it without
buffering) or synchronous for WSGI. Rows come from the database CHUNK at a time by keyset on
sequence, so an export of a million entries never sits in memory and no cursor or transaction
stays open between chunks. An export holds the matching linked entries that precede its own
`audit.exported` entry (linked at once for that), in chain order, with content_hash, prev_hash and
hash so anyone can re-verify them.
"""

import csv
import io
import json

from asgiref.sync import sync_to_async
from django.db import connections, transaction
from django.utils import timezone

from secrets_admin.audit import actions, chain, sequencer
from secrets_admin.audit.services import record

CHUNK = 1000
FORMATS = {"csv": "text/csv; charset=utf-8", "json": "application/json"}
CANONICAL_FORM = (
    "content_hash = sha256 of the JSON of created_at, actor_name, action, target_type, target_id, "
    "target_repr, request_id, ip and data, with sorted keys, separators (',', ':'), UTF-8 unescaped, "
    "times as UTC ISO 8601 with microseconds and Z; hash = sha256 of the same JSON form of "
    "{content_hash, prev_hash, sequence}; the first prev_hash is 64 zeros"
)
# Cells a spreadsheet would run as a formula get a leading apostrophe (OWASP CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def do_export(*, actor, fmt: str, queryset, filters: dict, request=None, asynchronous: bool = True):
    """Audit the export, then return (entry, iterator of str chunks; async unless told not).

    Raises ValueError for an unknown format. `queryset` is the already filtered AuditEntry
    queryset; `filters` the JSON-safe filter values to record.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    with transaction.atomic():
        entry = record(
            actions.EXPORTED, actor=actor, data={"format": fmt, "filter": filters}, request=request
        )
    sequencer.link()  # link it now (a short transaction of its own) so the export ends right before it
    entry.refresh_from_db(fields=["sequence", "prev_hash", "hash"])
    rows = queryset.filter(sequence__lt=entry.sequence).order_by("sequence").values_list(*chain.FIELDS)
    renderer = (CsvRenderer if fmt == "csv" else JsonRenderer)(entry, filters)
    chunks = _async_chunks(rows, renderer) if asynchronous else _sync_chunks(rows, renderer)
    return entry, chunks


def _chunk(rows, after: int) -> list:
    return list(rows.filter(sequence__gt=after)[:CHUNK])


def _sync_chunks(rows, renderer):
    yield renderer.header()
    after = 0
    while chunk := _chunk(rows, after):
        yield renderer.rows(chunk)
        after = chunk[-1][0]
    yield renderer.footer()


async def _async_chunks(rows, renderer):
    try:
        yield renderer.header()
        after = 0
        while chunk := await sync_to_async(_chunk)(rows, after):
            yield renderer.rows(chunk)
            after = chunk[-1][0]
        yield renderer.footer()
    finally:
        # Under ASGI the rows were read on a per-request thread: close its connection when done
        # (also on a client disconnect) rather than leave it open after the thread is gone.
        await sync_to_async(connections.close_all)()


def _entry_dict(row) -> dict:
    document = dict(zip(chain.FIELDS, row, strict=True))
    document["created_at"] = chain.format_time(document["created_at"])
    return document


def _safe_cell(value):
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, ensure_ascii=False)
    return "'" + text if text.startswith(_FORMULA_START) else text


class CsvRenderer:
    def __init__(self, entry, filters):
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer)

    def _take(self) -> str:
        text = self.buffer.getvalue()
        self.buffer.seek(0)
        self.buffer.truncate()
        return text

    def header(self) -> str:
        self.writer.writerow(chain.FIELDS)
        return self._take()

    def rows(self, rows) -> str:
        for row in rows:
            document = _entry_dict(row)
            self.writer.writerow([_safe_cell(document[name]) for name in chain.FIELDS])
        return self._take()

    def footer(self) -> str:
        return ""


class JsonRenderer:
    def __init__(self, entry, filters):
        self.entry, self.filters, self.first = entry, filters, True

    def header(self) -> str:
        document = {
            "exported_at": chain.format_time(timezone.now()),
            "export_entry": self.entry.sequence,
            "filter": self.filters,
            "canonical_form": CANONICAL_FORM,
        }
        return json.dumps(document, ensure_ascii=False)[:-1] + ', "entries": ['

    def rows(self, rows) -> str:
        parts = []
        for row in rows:
            parts.append(
                ("" if self.first else ",") + "\n" + json.dumps(_entry_dict(row), ensure_ascii=False)
            )
            self.first = False
        return "".join(parts)

    def footer(self) -> str:
        return "\n]}\n"
