"""Date ranges and filters from query strings, checked: a bad one is a message, never a 500."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.utils import timezone

MAX_DAYS = 366


class BadFilter(ValueError):
    """A query-string value the page cannot use; str() says what to fix."""


@dataclass(frozen=True)
class Range:
    start: datetime  # inclusive, midnight UTC of the first day
    end: datetime  # exclusive, midnight UTC after the last day

    @property
    def first_day(self) -> date:
        return self.start.date()

    @property
    def last_day(self) -> date:
        return (self.end - timedelta(days=1)).date()

    @property
    def days(self) -> int:
        return (self.end - self.start).days


EARLIEST, LATEST = date(1970, 1, 1), date(9000, 1, 1)  # room for the arithmetic either side


def _day(text: str, name: str) -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise BadFilter(f"{name} must be a date written YYYY-MM-DD, not {text[:40]!r}.") from None
    if not EARLIEST <= day <= LATEST:
        raise BadFilter(f"{name} must be between {EARLIEST} and {LATEST}, not {day}.")
    return day


def date_range(params, *, default_days: int, now: datetime | None = None) -> Range:
    """`from` and `to` (YYYY-MM-DD, both days included); missing ones default to the last
    `default_days` days up to today."""
    today = (now or timezone.now()).astimezone(UTC).date()
    last = _day(params["to"], "“To”") if params.get("to") else today
    first = _day(params["from"], "“From”") if params.get("from") else last - timedelta(days=default_days - 1)
    if first > last:
        raise BadFilter(f"“From” ({first}) is after “To” ({last}); swap them.")
    if (last - first).days + 1 > MAX_DAYS:
        raise BadFilter(f"A range covers at most {MAX_DAYS} days; this one covers {(last - first).days + 1}.")
    start = datetime(first.year, first.month, first.day, tzinfo=UTC)
    return Range(start, start + timedelta(days=(last - first).days + 1))


def choice(params, name: str, choices, default: str = "") -> str:
    value = params.get(name, "") or default
    if value and value not in choices:
        raise BadFilter(f"{name} must be one of {', '.join(choices)}, not {value[:40]!r}.")
    return value


def whole_number(params, name: str) -> int | None:
    value = (params.get(name) or "").strip()
    if not value:
        return None
    if not value.isdigit() or len(value) > 18:
        raise BadFilter(f"{name} must be a whole number (an id), not {value[:40]!r}.")
    return int(value)


def text(params, name: str, *, max_length: int = 255) -> str:
    value = (params.get(name) or "").strip()
    if len(value) > max_length:
        raise BadFilter(f"{name} is longer than {max_length} characters.")
    if any(ord(char) < 32 for char in value):
        raise BadFilter(f"{name} holds control characters; type it as plain text.")
    return value
