"""Keyset pagination for the inventory list: every page, however deep, is one indexed range scan.

The order is (column, id) with NULLs after every value (PostgreSQL's default, made explicit so
SQLite agrees). A cursor is the (value, id) of a boundary row, base64 JSON in the URL. Rows
of a nullable column are read in two segments — non-NULL by (column, id), then NULL by id — so
each query is a plain index range (`column >= v`) rather than an OR the planner cannot range-scan.
"""

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q

NULLABLE = {"next_due", "last_rotated"}
DATETIMES = {"next_due", "last_rotated"}


@dataclass
class Page:
    rows: list
    has_next: bool
    has_prev: bool
    next_cursor: str | None
    prev_cursor: str | None


def encode(row, column: str) -> str:
    value = getattr(row, column)
    if isinstance(value, datetime):
        value = value.isoformat()
    return base64.urlsafe_b64encode(json.dumps([value, row.pk]).encode()).decode().rstrip("=")


def decode(cursor: str, column: str):
    """(value, id) or None for a cursor that is malformed or not for this column."""
    if not cursor or len(cursor) > 3000:
        return None
    try:
        value, pk = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(pk, int) or not (value is None or isinstance(value, str)):
            return None
        if value is None and column not in NULLABLE:
            return None
        if value is not None and column in DATETIMES:
            value = datetime.fromisoformat(value)
            if value.tzinfo is None:
                return None
        return value, pk
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        return None


def _segment_after(qs, col, cursor, ascending, limit):
    """Up to `limit` rows strictly after `cursor` in the (col, id) order, read forwards
    (ascending=True) or backwards; both in the natural NULLS-LAST order of the column."""
    out = []
    nullable = col in NULLABLE
    if ascending:
        if cursor is None or cursor[0] is not None:
            part = qs.filter(**{f"{col}__isnull": False}) if nullable else qs
            if cursor is not None:
                v, pk = cursor
                part = part.filter(**{f"{col}__gte": v}).filter(Q(**{f"{col}__gt": v}) | Q(pk__gt=pk))
            out = list(part.order_by(col, "pk")[:limit])
        if nullable and len(out) < limit:
            part = qs.filter(**{f"{col}__isnull": True})
            if cursor is not None and cursor[0] is None:
                part = part.filter(pk__gt=cursor[1])
            out += list(part.order_by("pk")[: limit - len(out)])
        return out
    # backwards: NULL segment (only if we start inside or after it), then non-NULL descending
    if nullable and (cursor is None or cursor[0] is None):
        part = qs.filter(**{f"{col}__isnull": True})
        if cursor is not None:
            part = part.filter(pk__lt=cursor[1])
        out = list(part.order_by("-pk")[:limit])
    if len(out) < limit:
        part = qs.filter(**{f"{col}__isnull": False}) if nullable else qs
        if cursor is not None and cursor[0] is not None:
            v, pk = cursor
            part = part.filter(**{f"{col}__lte": v}).filter(Q(**{f"{col}__lt": v}) | Q(pk__lt=pk))
        out += list(part.order_by(f"-{col}", "-pk")[: limit - len(out)])
    return out


def paginate(qs, sort: str, *, after: str = "", before: str = "", last: bool = False, size: int = 25) -> Page:
    """One page of `qs` ordered by `sort` ("col" or "-col"). `after`/`before` are cursors from a
    previous page; `last` jumps to the end. Bad cursors fall back to the first page."""
    col = sort.lstrip("-")
    descending = sort.startswith("-")
    after_c, before_c = decode(after, col), decode(before, col)
    if before_c is not None or last:
        # Walk against the display order, then flip back.
        rows = _segment_after(qs, col, before_c, descending, size + 1)
        more = len(rows) > size
        rows = list(reversed(rows[:size]))
        has_prev, has_next = more, not last
    else:
        rows = _segment_after(qs, col, after_c, not descending, size + 1)
        has_next = len(rows) > size
        rows = rows[:size]
        has_prev = after_c is not None
    return Page(
        rows=rows,
        has_next=has_next and bool(rows),
        has_prev=has_prev and bool(rows),
        next_cursor=encode(rows[-1], col) if rows else None,
        prev_cursor=encode(rows[0], col) if rows else None,
    )
