"""The planner against known cases: due dates, windows, overrides, exemptions and links."""

from datetime import UTC, datetime, time, timedelta

import pytest

from secrets_admin.inventory.models import RotationPolicy
from secrets_admin.schedule import planner
from secrets_admin.schedule.models import SecretLink, SecretOverride
from tests.schedule.conftest import NOW

pytestmark = pytest.mark.django_db


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def due_ids(now=NOW):
    return list(planner.due_secrets(now).values_list("pk", flat=True))


def link(a, b):
    first, second = sorted((a.pk, b.pk))
    return SecretLink.objects.create(first_id=first, second_id=second, reason="key and consumer")


def test_a_due_secret_without_a_window_is_due(make_secret):
    due = make_secret(due=NOW - timedelta(hours=1))
    make_secret(due=NOW + timedelta(minutes=1))  # not yet
    assert due_ids() == [due.pk]


def test_due_secrets_are_ordered_by_due_date(make_secret):
    later = make_secret(due=NOW - timedelta(hours=1))
    earlier = make_secret(due=NOW - timedelta(days=2))
    assert due_ids() == [earlier.pk, later.pk]


def test_missing_secrets_and_secrets_without_a_policy_are_left_alone(make_secret):
    make_secret(due=NOW - timedelta(days=1), missing_since=NOW - timedelta(days=2))
    make_secret(due=NOW - timedelta(days=1), policy=None)
    assert due_ids() == []


def test_a_due_secret_waits_for_its_policy_window(make_secret, window_on):
    secret = make_secret(due=NOW - timedelta(days=1))
    window_on([2], "22:00", "02:00", "Europe/Berlin")  # Wednesday nights, Berlin
    assert due_ids(NOW) == []  # Wed 13:00 Berlin
    assert due_ids(utc(2026, 1, 14, 21, 0)) == [secret.pk]  # Wed 22:00 Berlin
    assert due_ids(utc(2026, 1, 15, 0, 59)) == [secret.pk]  # Thu 01:59 Berlin, past midnight
    assert due_ids(utc(2026, 1, 15, 1, 0)) == []  # Thu 02:00 Berlin: closed
    assert planner.next_slot(secret, NOW) == utc(2026, 1, 14, 21, 0)
    assert planner.in_window(secret, utc(2026, 1, 14, 23, 0))
    assert not planner.in_window(secret, NOW)


def test_next_slot_is_the_due_date_when_that_is_inside_the_window(make_secret, window_on):
    window_on([3], "00:00", "00:00")  # all of Thursday, UTC
    secret = make_secret(due=utc(2026, 1, 15, 9, 30))
    assert planner.next_slot(secret, NOW) == utc(2026, 1, 15, 9, 30)
    assert planner.next_slot(secret, utc(2026, 1, 16, 0, 0)) == utc(2026, 1, 22, 0, 0)


def test_a_secrets_own_window_replaces_the_policys(make_secret, window_on):
    window_on([2], "22:00", "23:00")
    secret = make_secret(due=NOW - timedelta(days=1))
    SecretOverride.objects.create(
        secret=secret, window_days=[2], window_start=time(11), window_end=time(13), window_tz="UTC"
    )
    assert due_ids() == [secret.pk]
    assert planner.effective_policy(secret).overridden == ("window",)


def test_an_exempt_secret_is_not_due_until_its_exemption_ends(make_secret):
    secret = make_secret(due=NOW - timedelta(days=3))
    SecretOverride.objects.create(secret=secret, exempt_until=NOW + timedelta(days=2), exempt_reason="freeze")
    assert due_ids() == []
    assert planner.next_slot(secret, NOW) == NOW + timedelta(days=2)
    assert due_ids(NOW + timedelta(days=2)) == [secret.pk]


def test_an_override_interval_moves_the_due_date(make_secret):
    # The policy says 90 days after the last rotation (due in 50 days); the override says 30.
    secret = make_secret(due=NOW + timedelta(days=50), last_rotated=NOW - timedelta(days=40))
    assert due_ids() == []
    SecretOverride.objects.create(secret=secret, interval_days=30)
    assert due_ids() == [secret.pk]
    assert planner.next_slot(secret, NOW - timedelta(days=30)) == NOW - timedelta(days=10)


def test_an_override_strategy_is_what_the_engine_reads(make_secret):
    secret = make_secret()
    SecretOverride.objects.create(secret=secret, strategy="rolling")
    effective = planner.effective_policy(secret)
    assert (effective.strategy, effective.interval_days, effective.name) == ("rolling", 90, "api-key-90-days")
    assert effective.overridden == ("strategy",)


def test_policy_settings_default_when_never_edited(make_secret):
    effective = planner.effective_policy(make_secret())
    assert (effective.overlap_hours, effective.grace_hours, effective.max_attempts) == (24, 24, 5)
    assert effective.window is None


def test_of_two_linked_secrets_due_together_only_the_first_starts(make_secret):
    key = make_secret(due=NOW - timedelta(hours=2))
    consumer = make_secret(due=NOW - timedelta(hours=1))
    other = make_secret(due=NOW - timedelta(hours=1))
    link(key, consumer)
    assert due_ids() == [key.pk, other.pk]


def test_a_secret_waits_a_gap_after_its_linked_secret_rotated(make_secret, settings):
    key = make_secret(due=NOW + timedelta(days=90), last_rotated=NOW - timedelta(minutes=20))
    consumer = make_secret(due=NOW - timedelta(hours=1))
    link(consumer, key)
    assert due_ids() == []  # the key rotated 20 minutes ago; the gap is an hour
    assert due_ids(NOW + timedelta(minutes=41)) == [consumer.pk]
    settings.SCHEDULE_LINK_GAP_MINUTES = 15
    assert due_ids() == [consumer.pk]


def test_links_chain_greedily_in_due_order(make_secret):
    a, b, c = (make_secret(due=NOW - timedelta(hours=h)) for h in (3, 2, 1))
    link(a, b)
    link(b, c)
    assert due_ids() == [a.pk, c.pk]  # b waits for a; c is linked only to b, which is not starting


def test_a_policy_with_an_expiry_rule_plans_by_expiry(make_secret):
    certs = RotationPolicy.objects.get(name="certificate-30-days-before-expiry")
    cert = make_secret(due=None, policy=certs, expires_at=NOW + timedelta(days=40))
    SecretOverride.objects.create(secret=cert, lead_days=45)
    assert due_ids() == [cert.pk]
