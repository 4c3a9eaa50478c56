"""The 30-day calendar: slots from due dates, windows, overrides and exemptions; linked secrets
whose slots are closer than the gap flagged before it happens, the later one staggered."""

from datetime import UTC, datetime, time, timedelta

import pytest

from secrets_admin.schedule import calendar
from secrets_admin.schedule.models import SecretLink, SecretOverride
from tests.schedule.conftest import NOW

pytestmark = pytest.mark.django_db


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def entries_of(plan):
    return {e.secret.pk: e for day in plan.days for e in day.entries}


def test_linked_secrets_planned_within_the_gap_are_flagged_and_the_later_one_staggered(make_secret):
    key = make_secret(due=utc(2026, 1, 20, 10, 0))
    consumer = make_secret(due=utc(2026, 1, 20, 10, 30))
    bystander = make_secret(due=utc(2026, 1, 20, 10, 15))
    SecretLink.objects.create(first=key, second=consumer, reason="key and consumer")

    plan = calendar.build(NOW)
    entries = entries_of(plan)

    assert plan.collisions == 1 and plan.planned == 3
    assert [(s.pk, slot) for s, slot in entries[key.pk].collides_with] == [
        (consumer.pk, utc(2026, 1, 20, 10, 30))
    ]
    assert [s.pk for s, _ in entries[consumer.pk].collides_with] == [key.pk]
    assert entries[consumer.pk].starts_after == utc(2026, 1, 20, 11, 0)
    assert entries[key.pk].starts_after is None and not entries[bystander.pk].collides_with
    [day] = [d for d in plan.days if d.entries]
    assert day.day == utc(2026, 1, 20).date() and day.collisions == 2


def test_linked_secrets_a_gap_apart_do_not_collide(make_secret):
    key = make_secret(due=utc(2026, 1, 20, 10, 0))
    consumer = make_secret(due=utc(2026, 1, 20, 11, 0))
    SecretLink.objects.create(first=key, second=consumer, reason="key and consumer")
    assert calendar.build(NOW).collisions == 0


def test_windows_can_make_a_collision_the_due_dates_did_not_show(make_secret, window_on):
    # Due two days apart, but both wait for the same Saturday night window.
    window_on([5], "22:00", "04:00", "Europe/Berlin")
    key = make_secret(due=utc(2026, 1, 15, 8))
    consumer = make_secret(due=utc(2026, 1, 17, 8))
    SecretLink.objects.create(first=key, second=consumer, reason="key and consumer")

    entries = entries_of(calendar.build(NOW))

    assert entries[key.pk].slot == entries[consumer.pk].slot == utc(2026, 1, 17, 21, 0)
    assert entries[consumer.pk].collides_with and entries[consumer.pk].starts_after == utc(2026, 1, 17, 22, 0)


def test_overdue_exempt_and_far_off_secrets(make_secret):
    overdue = make_secret(due=NOW - timedelta(days=3))
    exempt = make_secret(due=NOW - timedelta(days=3))
    SecretOverride.objects.create(secret=exempt, exempt_until=NOW + timedelta(days=5), exempt_reason="freeze")
    make_secret(due=NOW + timedelta(days=31))  # beyond the 30 days
    make_secret(due=None)  # nothing plans it

    entries = entries_of(calendar.build(NOW))

    assert set(entries) == {overdue.pk, exempt.pk}
    assert entries[overdue.pk].slot == NOW and entries[overdue.pk].overdue
    assert entries[exempt.pk].slot == NOW + timedelta(days=5)


def test_an_override_window_shapes_the_slot(make_secret):
    secret = make_secret(due=utc(2026, 1, 15, 8))
    SecretOverride.objects.create(secret=secret, window_days=[0], window_start=time(2), window_end=time(3))
    assert entries_of(calendar.build(NOW))[secret.pk].slot == utc(2026, 1, 19, 2, 0)


def test_only_collisions_leaves_the_rest_out(make_secret):
    a, b = make_secret(due=utc(2026, 1, 20, 10)), make_secret(due=utc(2026, 1, 20, 10))
    make_secret(due=utc(2026, 1, 21, 10))
    SecretLink.objects.create(first=a, second=b, reason="pair")
    plan = calendar.build(NOW, only_collisions=True)
    assert set(entries_of(plan)) == {a.pk, b.pk} and plan.planned == 3
