"""Rotation windows: the days of the week and the hours, in a named time zone, when a secret may
be rotated — and the instants they open and close.

A window is wall-clock time in its zone: "Mon–Fri 22:00–02:00 Europe/Berlin" opens at 22:00
Berlin time on each listed day and closes at 02:00 on the next morning (the listed day is the
day the window opens). Start equal to end means the whole day. No listed day means no window:
any time will do.

Each listed day gives one interval of instants [opens, closes). Daylight saving time:
- a time the clocks skip (02:30 on the spring-forward night) is read as the moment the clocks
  jump past it (03:00 local), so a window starting or ending in the gap is shorter, never lost;
- a time that happens twice (02:30 on the fall-back night) is its first occurrence, so a window
  ending then is not stretched by the repeated hour.
`contains` and `next_open` both work from these intervals, so they always agree.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
DAY_CHOICES = tuple((str(i), name) for i, name in enumerate(DAY_NAMES))


@lru_cache(maxsize=1)
def zone_names() -> tuple[str, ...]:
    return tuple(sorted(available_timezones()))


@lru_cache(maxsize=256)
def zone(name: str) -> ZoneInfo:
    """The named IANA zone; ValueError (in words) for an unknown name."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not a time zone name (use one like Europe/Berlin or UTC).") from None


def wall_to_instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The first instant (UTC) at which the wall clock in `tz` on `day` shows `at` or later."""
    naive = datetime.combine(day, at)
    first = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if first.astimezone(tz).replace(tzinfo=None) == naive:
        return first  # exists (for a repeated time: its first occurrence)
    # Skipped by the clocks: fold=1 reads it with the offset after the jump (an instant before the
    # jump), fold=0 with the offset before it (an instant after). The jump lies between: find it.
    low = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    high = first
    while high - low > timedelta(seconds=1):
        mid = low + (high - low) / 2
        if mid.astimezone(tz).replace(tzinfo=None) >= naive:
            high = mid
        else:
            low = mid
    return high.replace(microsecond=0)


@dataclass(frozen=True)
class Window:
    days: frozenset[int]  # 0 = Monday … 6 = Sunday
    start: time
    end: time
    tz_name: str = "UTC"

    @classmethod
    def of(cls, days, start, end, tz_name) -> "Window | None":
        """A Window from stored fields, or None when no day is listed (no window: any time)."""
        days = frozenset(int(d) for d in (days or ()))
        if not days:
            return None
        return cls(days, start or time(0), end or time(0), tz_name or "UTC")

    @property
    def tz(self) -> ZoneInfo:
        return zone(self.tz_name)

    @property
    def crosses_midnight(self) -> bool:
        return self.end <= self.start  # equal: the whole day, to the same time next day

    def interval(self, day: date) -> tuple[datetime, datetime] | None:
        """[opens, closes) in UTC for the window opening on local `day`, or None if not listed."""
        return _interval(self, day)

    def contains(self, when: datetime) -> bool:
        local_day = when.astimezone(self.tz).date()
        for day in (local_day - timedelta(days=1), local_day):
            span = self.interval(day)
            if span and span[0] <= when < span[1]:
                return True
        return False

    def next_open(self, after: datetime) -> datetime:
        """The first instant at or after `after` inside the window."""
        local_day = after.astimezone(self.tz).date()
        for offset in range(-1, 9):
            span = self.interval(local_day + timedelta(days=offset))
            if span and after < span[1] and span[0] < span[1]:
                return max(after, span[0])
        raise ValueError("this window never opens")  # unreachable with at least one day listed

    def describe(self) -> str:
        """ "Mon, Tue 22:00–02:00 Europe/Berlin" """
        days = ", ".join(DAY_NAMES[d] for d in sorted(self.days))
        if len(self.days) == 7:
            days = "Every day"
        hours = "all day" if self.start == self.end else f"{self.start:%H:%M}–{self.end:%H:%M}"
        return f"{days} {hours} {self.tz_name}"


@lru_cache(maxsize=4096)
def _interval(window: Window, day: date) -> tuple[datetime, datetime] | None:
    # Cached: a planner run asks the same few windows about the same few days thousands of times.
    if day.weekday() not in window.days:
        return None
    tz = window.tz
    closing_day = day + timedelta(days=1) if window.crosses_midnight else day
    return wall_to_instant(day, window.start, tz), wall_to_instant(closing_day, window.end, tz)
