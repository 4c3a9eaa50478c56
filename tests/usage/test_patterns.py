"""Reads per hour, per secret and per identity against a hand-computed fixture; bad filters
answer 400 with what to fix."""

from datetime import timedelta

import pytest

from secrets_admin.usage.services import patterns
from secrets_admin.usage.services.filters import BadFilter
from tests.usage.conftest import HOUR, NOW

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(secret, reads):
    """db: 5 reads by api at HOUR, 2 by batch at HOUR-1h; cache: 4 by api at HOUR-1h;
    1 list by api at HOUR (not a read); 9 reads of db 10 days ago (outside a week)."""
    db, cache = secret("secret/app/db"), secret("secret/app/cache")
    reads(
        {
            (0, db.path, "api"): 5,
            (1, db.path, "batch"): 2,
            (1, cache.path, "api"): 4,
            (240, db.path, "api"): 9,
        }
    )
    reads({(0, db.path, "api"): 1}, operation="list")
    return db, cache


def test_reads_per_hour_secret_and_identity_match_the_hand_count(history):
    db, cache = history
    filters = patterns.parse({}, now=NOW)  # the last 7 days, reads only
    assert patterns.total(filters) == 11  # 5 + 2 + 4
    assert patterns.per_period(filters) == ("hour", [(HOUR - timedelta(hours=1), 6), (HOUR, 5)])
    by_secret = [(row["path"], row["secret_id"], row["requests"]) for row in patterns.per_secret(filters)]
    assert by_secret == [(db.path, db.pk, 7), (cache.path, cache.pk, 4)]
    assert [(row["identity"], row["requests"]) for row in patterns.per_identity(filters)] == [
        ("api", 9),
        ("batch", 2),
    ]


def test_filters_narrow_to_a_secret_an_identity_an_operation_and_a_longer_range_goes_per_day(history):
    db, _ = history
    assert patterns.total(patterns.parse({"secret": str(db.pk)}, now=NOW)) == 7
    assert patterns.total(patterns.parse({"identity": "batch"}, now=NOW)) == 2
    assert patterns.total(patterns.parse({"operation": "list"}, now=NOW)) == 1
    assert patterns.total(patterns.parse({"operation": "any"}, now=NOW)) == 12
    month = patterns.parse({"from": (NOW - timedelta(days=29)).date().isoformat()}, now=NOW)
    unit, days = patterns.per_period(month)
    assert unit == "day" and [n for _, n in days] == [9, 11]


@pytest.mark.parametrize(
    "params, message",
    [
        ({"from": "2026-13-01"}, "“From” must be a date"),
        ({"from": "2026-02-01", "to": "2026-01-01"}, "is after"),
        ({"from": "2024-01-01", "to": "2026-01-01"}, "at most 366 days"),
        ({"to": "0001-01-01"}, "must be between 1970-01-01"),
        ({"from": "2026-01-01", "to": "9999-12-31"}, "must be between"),
        ({"operation": "steal"}, "operation must be one of"),
        ({"identity": "api\x00"}, "identity holds control characters"),
        ({"identity": "x" * 256}, "identity is longer than 255"),
        ({"secret": "abc"}, "secret must be a whole number"),
        ({"secret": "999999999"}, "There is no secret #999999999"),
    ],
)
def test_a_bad_filter_is_a_message(params, message):
    with pytest.raises(BadFilter, match=message):
        patterns.parse(params, now=NOW)


def test_the_page_shows_the_figures_and_answers_a_bad_filter_with_400(history, member, settings):
    settings.USAGE_STALE_DAYS = 90
    client = member("frank", "managers")
    page = client.get(
        "/usage/", {"from": (NOW - timedelta(days=6)).date().isoformat(), "to": NOW.date().isoformat()}
    )
    assert page.status_code == 200
    assert b"secret/app/db" in page.content and b"batch" in page.content
    bad = client.get("/usage/", {"from": "yesterday"})
    assert bad.status_code == 400 and "must be a date written YYYY-MM-DD" in bad.content.decode()
    assert member("alice", "developers").get("/usage/").status_code == 403
