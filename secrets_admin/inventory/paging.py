"""Keyset pagination for the inventory list: every page, however deep, is one indexed range scan.

The order is (key, id). A cursor is the (key, id) of a boundary row, base64 JSON in the URL.
Nullable date columns sort by COALESCE(column, sentinel) — "never rotated" before everything,
"not scheduled" after everything — with a matching expression index, so every sort key is
non-NULL and a page is always exactly one query: `key >= v AND (key > v OR id > pk)`, where the
first conjunct is the index range start the planner needs.
"""

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db.models import DateTimeField, F, Q, Value
from django.db.models.functions import Coalesce

NEVER = datetime(1970, 1, 1, tzinfo=UTC)  # last_rotated unknown: oldest
UNSCHEDULED = datetime(9999, 12, 31, tzinfo=UTC)  # next_due unknown: last
NULL_SENTINELS = {"last_rotated": NEVER, "next_due": UNSCHEDULED}


def sort_key(column: str):
    """The expression a column sorts by (also used by the model's expression indexes)."""
    if column in NULL_SENTINELS:
        return Coalesce(F(column), Value(NULL_SENTINELS[column], output_field=DateTimeField()))
    return F(column)


@dataclass
class Page:
    rows: list
    has_next: bool
    has_prev: bool
    next_cursor: str | None
    prev_cursor: str | None


def encode(row, column: str) -> str:
    value = getattr(row, "sort_key", None) if column in NULL_SENTINELS else getattr(row, column)
    if isinstance(value, datetime):
        value = value.isoformat()
    return base64.urlsafe_b64encode(json.dumps([value, row.pk]).encode()).decode().rstrip("=")


def decode(cursor: str, column: str):
    """(value, id), or None for a cursor that is malformed or not for this column."""
    if not cursor or len(cursor) > 3000:
        return None
    try:
        value, pk = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(pk, int) or not isinstance(value, str):
            return None
        if column in NULL_SENTINELS:
            value = datetime.fromisoformat(value)
            if value.tzinfo is None:
                return None
        return value, pk
    except (ValueError, TypeError, OverflowError, binascii.Error, UnicodeDecodeError):
        return None


def _walk(qs, column, cursor, forward: bool, limit: int) -> list:
    """Up to `limit` rows strictly after (forward) or before `cursor` in (key, id) order,
    in walking order."""
    key = "sort_key" if column in NULL_SENTINELS else column
    if key == "sort_key":
        qs = qs.annotate(sort_key=sort_key(column))
    if cursor is not None:
        v, pk = cursor
        if forward:
            qs = qs.filter(**{f"{key}__gte": v}).filter(Q(**{f"{key}__gt": v}) | Q(pk__gt=pk))
        else:
            qs = qs.filter(**{f"{key}__lte": v}).filter(Q(**{f"{key}__lt": v}) | Q(pk__lt=pk))
    order = (key, "pk") if forward else (f"-{key}", "-pk")
    return list(qs.order_by(*order)[:limit])


def paginate(qs, sort: str, *, after: str = "", before: str = "", last: bool = False, size: int = 25) -> Page:
    """One page of `qs` ordered by `sort` ("col" or "-col"). `after`/`before` are cursors from a
    previous page; `last` jumps to the end. A bad cursor falls back to the first page."""
    column = sort.lstrip("-")
    ascending = not sort.startswith("-")
    after_c, before_c = decode(after, column), decode(before, column)
    if before_c is not None or last:
        rows = _walk(qs, column, before_c, not ascending, size + 1)
        has_prev = len(rows) > size
        rows = list(reversed(rows[:size]))
        has_next = not last
    else:
        rows = _walk(qs, column, after_c, ascending, size + 1)
        has_next = len(rows) > size
        rows = rows[:size]
        has_prev = after_c is not None
    return Page(
        rows=rows,
        has_next=has_next and bool(rows),
        has_prev=has_prev and bool(rows),
        next_cursor=encode(rows[-1], column) if rows else None,
        prev_cursor=encode(rows[0], column) if rows else None,
    )
