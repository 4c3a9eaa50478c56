"""The chart panels' numbers against hand-computed fixtures, and the chart colours' contrast."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from secrets_admin.dashboard.services import charts
from secrets_admin.inventory.models import RotationPolicy
from secrets_admin.schedule.models import SecretLink
from tests.accounts.factories import verified_client
from tests.dashboard import estate

pytestmark = pytest.mark.django_db


def _ago(days):
    return timezone.now() - timedelta(days=days)


def test_age_histogram_per_kind_with_the_policy_limit():
    # api keys (limit 90 days): 10, 45, 100 and 400 days; passwords (limit 30): 5 and 200 days;
    # a certificate follows expiry (no interval); a missing secret is not counted.
    for i, days in enumerate((10, 45, 100, 400)):
        estate.secret(f"k/{i}", last_rotated=_ago(days))
    estate.secret("p/1", kind="password", last_rotated=_ago(5))
    estate.secret("p/2", kind="password", created_at=_ago(200))  # never rotated: age from creation
    estate.secret("c/1", kind="certificate", last_rotated=_ago(20))
    estate.secret("gone", last_rotated=_ago(10), missing_since=timezone.now())

    found = {k["kind"]: k for k in charts.age_distribution()["kinds"]}
    assert found["api_key"]["counts"] == [1, 1, 0, 1, 0, 1]  # 0-30, 30-60, 60-90, 90-180, 180-365, 365+
    assert found["api_key"]["limit_days"] == 90 and found["api_key"]["limit_bucket"] == 2
    assert found["api_key"]["past_limit"] == 2  # 100 and 400 days
    assert found["password"]["counts"] == [1, 0, 0, 0, 1, 0]
    assert (found["password"]["limit_days"], found["password"]["past_limit"]) == (30, 1)
    assert found["certificate"]["limit_days"] is None and found["certificate"]["past_limit"] == 0
    assert set(found) == {"api_key", "password", "certificate"}


def test_trend_per_day_and_the_failures_standing_now():
    a = estate.secret("secret/a")
    b = estate.secret("secret/b")
    c = estate.secret("secret/c")
    estate.run(a, "finished", days_ago=0)
    estate.run(a, "finished", days_ago=0)
    old_failure = estate.run(b, "failed", days_ago=5, error="refused")
    estate.run(b, "finished", days_ago=4)  # b recovered: its failure no longer stands
    standing = estate.run(c, "needs_person", days_ago=2, error="test step failed 5 times")
    retrying = estate.run(a, "retrying")
    estate.run(c, "failed", days_ago=120)  # outside the window

    trend = charts.trend()
    days = {d["day"]: d for d in trend["days"]}
    today = timezone.now().astimezone(timezone.get_fixed_timezone(0)).date()
    assert len(trend["days"]) == 90
    assert (days[today]["finished"], days[today]["failed"]) == (2, 0)
    assert days[today - timedelta(days=5)]["failed"] == 1
    assert (trend["finished"], trend["failed"]) == (3, 2)

    failures = charts.current_failures()
    assert {r.pk for r in failures["runs"]} == {standing.pk, retrying.pk}
    assert failures["count"] == 2 and old_failure.pk not in {r.pk for r in failures["runs"]}


def test_calendar_flags_linked_secrets_that_collide():
    policy = RotationPolicy.objects.get(kind="api_key", is_default=True)
    due = timezone.now() + timedelta(days=3)
    key = estate.secret("secret/key", rotation_policy=policy, next_due=due)
    consumer = estate.secret("secret/consumer", rotation_policy=policy, next_due=due + timedelta(minutes=1))
    estate.secret("secret/alone", rotation_policy=policy, next_due=due + timedelta(days=2))
    estate.secret("secret/later", rotation_policy=policy, next_due=due + timedelta(days=40))
    first, second = sorted((key.pk, consumer.pk))
    SecretLink.objects.create(first_id=first, second_id=second, reason="key and its consumer")

    cal = charts.calendar_next_30_days()
    assert (cal["planned"], cal["collisions"]) == (3, 1)
    assert sum(d["planned"] for d in cal["days"]) == 3
    assert {c["secret"].pk for c in cal["clashes"]} == {key.pk, consumer.pk}
    # and as served, from the stored figures (computed on this first load)
    page = verified_client(estate.person("manager", "managers")).get("/").content.decode()
    clashes = page[page.index('id="calendar-clashes"') :].split("</ul>")[0]
    assert key.get_absolute_url() in clashes and consumer.get_absolute_url() in clashes
    assert "3 rotations planned" in page


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def test_chart_colours_meet_wcag_aa_contrast_against_the_white_page():
    source = (Path(settings.BASE_DIR) / "static" / "dashboard" / "charts.js").read_text()
    palette = re.search(r"var PALETTE = \{([^}]*)\}", source).group(1)
    colours = re.findall(r'"(#[0-9a-fA-F]{6})"', palette) + re.findall(r'TEXT = "(#[0-9a-fA-F]{6})"', source)
    assert len(colours) >= 5
    for colour in colours:
        ratio = (1.0 + 0.05) / (_luminance(colour) + 0.05)
        assert ratio >= 4.5, f"{colour} has contrast {ratio:.2f}:1 against white (AA needs 4.5:1)"
