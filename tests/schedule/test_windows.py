"""Rotation windows against known answers: across midnight, daylight saving (both directions, two
continents), zones with half-hour offsets, whole days. Instants are written in UTC and checked
against the zone's published rules (Europe/Berlin: 2026-03-29 01:00 UTC, 2026-10-25 01:00 UTC;
America/New_York: 2026-03-08 07:00 UTC)."""

from datetime import UTC, datetime, time, timedelta

import pytest

from secrets_admin.schedule.windows import Window, wall_to_instant, zone


def utc(*args):
    return datetime(*args, tzinfo=UTC)


WEEKNIGHTS_BERLIN = Window(frozenset({0, 1, 2, 3, 4}), time(22), time(2), "Europe/Berlin")


@pytest.mark.parametrize(
    ("when", "inside"),
    [
        (utc(2026, 1, 16, 20, 59), False),  # Fri 21:59 Berlin: not yet
        (utc(2026, 1, 16, 21, 0), True),  # Fri 22:00 Berlin: opens
        (utc(2026, 1, 17, 0, 30), True),  # Sat 01:30 Berlin: Friday's window, past midnight
        (utc(2026, 1, 17, 1, 0), False),  # Sat 02:00 Berlin: closed (end is exclusive)
        (utc(2026, 1, 17, 21, 30), False),  # Sat 22:30: Saturday is not listed
        (utc(2026, 1, 19, 0, 0), False),  # Mon 01:00: Sunday night is not listed
        (utc(2026, 1, 19, 21, 0), True),  # Mon 22:00
    ],
)
def test_a_window_across_midnight_belongs_to_the_day_it_opens(when, inside):
    assert WEEKNIGHTS_BERLIN.contains(when) is inside


def test_the_next_opening_after_a_weekend_is_monday_night():
    assert WEEKNIGHTS_BERLIN.next_open(utc(2026, 1, 17, 12, 0)) == utc(2026, 1, 19, 21, 0)


def test_inside_the_window_the_next_opening_is_now():
    assert WEEKNIGHTS_BERLIN.next_open(utc(2026, 1, 17, 0, 30)) == utc(2026, 1, 17, 0, 30)


def test_in_summer_the_same_wall_time_is_an_hour_earlier_in_utc():
    assert WEEKNIGHTS_BERLIN.next_open(utc(2026, 7, 13, 12)) == utc(2026, 7, 13, 20, 0)  # Mon 22:00 CEST


def test_a_window_starting_in_the_skipped_hour_opens_when_the_clocks_jump():
    # 2026-03-29, Berlin: 02:00 CET becomes 03:00 CEST at 01:00 UTC; 02:30 never happens.
    sunday = Window(frozenset({6}), time(2, 30), time(4), "Europe/Berlin")
    assert sunday.next_open(utc(2026, 3, 29, 0, 0)) == utc(2026, 3, 29, 1, 0)
    assert not sunday.contains(utc(2026, 3, 29, 0, 59))
    assert sunday.contains(utc(2026, 3, 29, 1, 0))
    assert sunday.contains(utc(2026, 3, 29, 1, 59))  # 03:59 CEST
    assert not sunday.contains(utc(2026, 3, 29, 2, 0))  # 04:00 CEST


def test_a_window_over_the_skipped_hour_is_an_hour_shorter():
    sunday = Window(frozenset({6}), time(1), time(3), "Europe/Berlin")
    opens, closes = sunday.interval(datetime(2026, 3, 29).date())
    assert (opens, closes) == (utc(2026, 3, 29, 0, 0), utc(2026, 3, 29, 1, 0))


def test_a_window_ending_in_the_repeated_hour_ends_at_its_first_occurrence():
    # 2026-10-25, Berlin: 03:00 CEST becomes 02:00 CET at 01:00 UTC; 02:00-03:00 happens twice.
    sunday = Window(frozenset({6}), time(0), time(2, 30), "Europe/Berlin")
    assert sunday.interval(datetime(2026, 10, 25).date()) == (
        utc(2026, 10, 24, 22, 0),
        utc(2026, 10, 25, 0, 30),
    )
    assert sunday.contains(utc(2026, 10, 25, 0, 29))
    assert not sunday.contains(utc(2026, 10, 25, 0, 45))  # 02:45 CEST
    assert not sunday.contains(utc(2026, 10, 25, 1, 15))  # 02:15 CET, the second time round


def test_a_window_over_the_repeated_hour_is_an_hour_longer():
    sunday = Window(frozenset({6}), time(1), time(4), "Europe/Berlin")
    opens, closes = sunday.interval(datetime(2026, 10, 25).date())
    assert closes - opens == (utc(2026, 1, 1, 4) - utc(2026, 1, 1, 0))  # 4 hours of instants


@pytest.mark.parametrize(
    ("after", "opens"),
    [
        (utc(2026, 3, 7, 0, 0), utc(2026, 3, 7, 14, 0)),  # Sat 09:00 EST = 14:00 UTC
        (utc(2026, 3, 7, 15, 0), utc(2026, 3, 9, 13, 0)),  # Sun not listed; Mon 09:00 EDT = 13:00 UTC
    ],
)
def test_new_york_mornings_follow_daylight_saving(after, opens):
    mornings = Window(frozenset({0, 1, 2, 3, 4, 5}), time(9), time(10), "America/New_York")
    assert mornings.next_open(after) == opens


def test_half_hour_zones():
    kolkata = Window(frozenset({0}), time(9), time(17), "Asia/Kolkata")  # UTC+05:30, no DST
    assert kolkata.interval(datetime(2026, 1, 19).date()) == (
        utc(2026, 1, 19, 3, 30),
        utc(2026, 1, 19, 11, 30),
    )


def test_start_equal_to_end_is_the_whole_day():
    saturday = Window(frozenset({5}), time(0), time(0), "UTC")
    assert saturday.contains(utc(2026, 1, 17, 0, 0)) and saturday.contains(utc(2026, 1, 17, 23, 59))
    assert not saturday.contains(utc(2026, 1, 18, 0, 0))
    assert saturday.next_open(utc(2026, 1, 18, 0, 0)) == utc(2026, 1, 24, 0, 0)


def test_no_day_listed_is_no_window():
    assert Window.of([], time(1), time(2), "UTC") is None


def test_contains_and_next_open_agree_every_quarter_hour_for_a_year():
    # The fall-back and spring-forward nights included, in a zone that has both.
    window = Window(frozenset({5, 6}), time(1, 30), time(2, 30), "Europe/London")
    when = utc(2026, 1, 1)
    while when < utc(2027, 1, 1):
        assert window.contains(when) == (window.next_open(when) == when), when
        when += timedelta(minutes=15)


def test_a_skipped_time_maps_to_the_jump_to_the_second():
    assert wall_to_instant(datetime(2026, 3, 8).date(), time(2, 15), zone("America/New_York")) == utc(
        2026, 3, 8, 7, 0
    )


def test_an_unknown_zone_is_refused_in_words():
    with pytest.raises(ValueError, match="is not a time zone name"):
        zone("Mars/Olympus")
