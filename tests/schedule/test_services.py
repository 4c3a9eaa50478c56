"""Schedule services: a one-time code for every change, the audit entry written with it (old →
new), and bad input refused before the code is spent, with nothing saved."""

from datetime import time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from secrets_admin.accounts.stepup import StepUpFailed
from secrets_admin.audit.models import AuditEntry
from secrets_admin.inventory.models import RotationPolicy, Secret
from secrets_admin.schedule import actions
from secrets_admin.schedule.models import PolicySettings, SecretLink, SecretOverride
from secrets_admin.schedule.services.links import do_link, do_unlink
from secrets_admin.schedule.services.overrides import do_remove_override, do_set_override
from secrets_admin.schedule.services.policies import do_update_policy, policy_values
from tests.accounts.factories import code_at_step

pytestmark = pytest.mark.django_db


def entries(action):
    return list(AuditEntry.objects.filter(action=action).order_by("id"))


def edited(policy, **changes):
    return {**policy_values(policy), **changes}


def test_a_policy_edit_saves_and_records_old_and_new(security_person, api_policy):
    user, device, _ = security_person
    values = edited(
        api_policy,
        interval_days=60,
        overlap_hours=48,
        window_days=["5", "6"],
        window_start=time(1),
        window_end=time(5),
        window_tz="Europe/Berlin",
    )
    changes = do_update_policy(api_policy.pk, actor=user, otp=code_at_step(device, 0), values=values)

    api_policy.refresh_from_db()
    knobs = PolicySettings.objects.get(policy=api_policy)
    assert api_policy.interval_days == 60 and knobs.overlap_hours == 48
    assert (knobs.window_days, knobs.window_start, knobs.window_tz) == ([5, 6], time(1), "Europe/Berlin")
    [entry] = entries(actions.POLICY_UPDATED)
    assert entry.actor == user and entry.target_id == str(api_policy.pk)
    assert entry.data["changes"]["interval_days"] == [90, 60]
    assert entry.data["changes"]["overlap_hours"] == [24, 48]
    assert entry.data["changes"]["window_start"] == [None, "01:00"]
    assert entry.data["changes"]["window_days"] == [[], [5, 6]]
    assert changes == entry.data["changes"]


def test_a_new_interval_moves_the_due_dates_of_the_policys_secrets(security_person, api_policy, make_secret):
    user, device, _ = security_person
    rotated = timezone.now() - timedelta(days=40)
    secret = make_secret(last_rotated=rotated, due=rotated + timedelta(days=90), status="ok")
    do_update_policy(
        api_policy.pk, actor=user, otp=code_at_step(device, 0), values=edited(api_policy, interval_days=30)
    )
    secret.refresh_from_db()
    assert secret.next_due == rotated + timedelta(days=30) and secret.status == "overdue"
    assert entries(actions.POLICY_UPDATED)[0].data["secrets_refreshed"] == 1


def test_a_wrong_code_changes_nothing(security_person, api_policy):
    user, _, _ = security_person
    with pytest.raises(StepUpFailed):
        do_update_policy(api_policy.pk, actor=user, otp="000000", values=edited(api_policy, interval_days=5))
    assert RotationPolicy.objects.get(pk=api_policy.pk).interval_days == 90
    assert not PolicySettings.objects.exists() and not entries(actions.POLICY_UPDATED)


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"interval_days": 0}, "interval_days", "between 1 and 3650"),
        ({"interval_days": None, "lead_days": 0}, "interval_days", "Give an interval"),
        ({"strategy": "yolo"}, "strategy", "Choose a strategy"),
        ({"max_attempts": 99}, "max_attempts", "between 1 and 20"),
        ({"window_tz": "Mars/Olympus"}, "window_tz", "not a time zone name"),
        ({"window_start": time(1), "window_end": time(2)}, "window_days", "Pick at least one day"),
        ({"window_days": ["1"], "window_start": time(1)}, "window_start", "both a start and an end"),
        (
            {"window_days": ["9"], "window_start": time(1), "window_end": time(2)},
            "window_days",
            "days of the week",
        ),
    ],
)
def test_bad_policy_input_is_refused_before_the_code_is_spent(
    security_person, api_policy, changes, field, words
):
    user, device, _ = security_person
    code = code_at_step(device, 0)
    with pytest.raises(ValidationError) as refused:
        do_update_policy(api_policy.pk, actor=user, otp=code, values=edited(api_policy, **changes))
    assert words in " ".join(refused.value.message_dict[field])
    assert RotationPolicy.objects.get(pk=api_policy.pk).interval_days == 90
    assert not PolicySettings.objects.exists() and not entries(actions.POLICY_UPDATED)
    # the code still works: nothing was spent
    do_update_policy(api_policy.pk, actor=user, otp=code, values=edited(api_policy, grace_hours=12))
    assert PolicySettings.objects.get(policy=api_policy).grace_hours == 12


def test_an_edit_that_changes_nothing_records_nothing(security_person, api_policy):
    user, device, _ = security_person
    assert (
        do_update_policy(api_policy.pk, actor=user, otp=code_at_step(device, 0), values=edited(api_policy))
        == {}
    )
    assert not entries(actions.POLICY_UPDATED)


def test_an_override_with_an_exemption_is_saved_and_recorded(security_person, make_secret):
    user, device, _ = security_person
    secret = make_secret()
    until = timezone.now() + timedelta(days=10)
    values = {"interval_days": 14, "exempt_until": until, "exempt_reason": "  change   freeze "}
    do_set_override(secret.pk, actor=user, otp=code_at_step(device, 0), values=values)

    override = SecretOverride.objects.get(secret=secret)
    assert (override.interval_days, override.exempt_until, override.exempt_reason) == (
        14,
        until,
        "change freeze",
    )
    assert override.updated_by == "carol"
    [entry] = entries(actions.OVERRIDE_SAVED)
    assert entry.target_id == str(secret.pk) and entry.data["created"] is True
    assert entry.data["changes"]["interval_days"] == [None, 14]
    assert entry.data["changes"]["exempt_reason"] == ["", "change freeze"]

    do_set_override(secret.pk, actor=user, otp=code_at_step(device, 1), values={**values, "interval_days": 7})
    second = entries(actions.OVERRIDE_SAVED)[1]
    assert second.data == {"changes": {"interval_days": [14, 7]}, "created": False}


@pytest.mark.parametrize(
    ("values", "field", "words"),
    [
        ({"exempt_until": "tomorrow"}, "exempt_until", "date and time"),
        ({"exempt_until": "PAST", "exempt_reason": "x"}, "exempt_until", "in the future"),
        ({"exempt_until": "FAR", "exempt_reason": "x"}, "exempt_until", "at most a year"),
        ({"exempt_until": "SOON"}, "exempt_reason", "Say why"),
        ({"exempt_reason": "no end"}, "exempt_until", "needs an end date"),
        ({"lead_days": -1}, "lead_days", "between 0 and 3650"),
    ],
)
def test_bad_override_input_is_refused_and_nothing_is_saved(
    security_person, make_secret, values, field, words
):
    user, device, _ = security_person
    secret = make_secret()
    now = timezone.now()
    when = {
        "PAST": now - timedelta(hours=1),
        "FAR": now + timedelta(days=400),
        "SOON": now + timedelta(days=1),
    }
    values = {k: when.get(v, v) if isinstance(v, str) else v for k, v in values.items()}
    with pytest.raises(ValidationError) as refused:
        do_set_override(secret.pk, actor=user, otp=code_at_step(device, 0), values=values)
    assert words in " ".join(refused.value.message_dict[field])
    assert not SecretOverride.objects.exists() and not entries(actions.OVERRIDE_SAVED)


def test_an_empty_override_is_refused(security_person, make_secret):
    user, device, _ = security_person
    with pytest.raises(ValidationError, match="Nothing is overridden"):
        do_set_override(make_secret().pk, actor=user, otp=code_at_step(device, 0), values={})
    assert not SecretOverride.objects.exists()


def test_removing_an_override_is_recorded_with_what_it_held(security_person, make_secret):
    user, device, _ = security_person
    secret = make_secret()
    SecretOverride.objects.create(secret=secret, strategy="rolling")
    with pytest.raises(StepUpFailed):
        do_remove_override(secret.pk, actor=user, otp="123456")
    assert SecretOverride.objects.filter(secret=secret).exists()

    assert do_remove_override(secret.pk, actor=user, otp=code_at_step(device, 0)) is True
    assert not SecretOverride.objects.filter(secret=secret).exists()
    [entry] = entries(actions.OVERRIDE_REMOVED)
    assert entry.data["removed"]["strategy"] == "rolling"


def test_a_link_is_stored_once_per_pair_and_recorded(security_person, make_secret):
    user, device, _ = security_person
    key, consumer = make_secret(), make_secret()
    link = do_link(
        consumer.pk, key.pk, actor=user, otp=code_at_step(device, 0), reason="key and its consumer"
    )
    assert (link.first_id, link.second_id) == (key.pk, consumer.pk)  # lower id first
    [entry] = entries(actions.LINK_CREATED)
    assert entry.target_id == str(key.pk) and entry.data["other_id"] == consumer.pk

    with pytest.raises(ValidationError, match="already linked"):
        do_link(key.pk, consumer.pk, actor=user, otp=code_at_step(device, 1), reason="again")
    assert SecretLink.objects.count() == 1 and len(entries(actions.LINK_CREATED)) == 1


def test_a_secret_cannot_be_linked_to_itself(security_person, make_secret):
    user, device, _ = security_person
    secret = make_secret()
    with pytest.raises(ValidationError, match="cannot be linked to itself"):
        do_link(secret.pk, secret.pk, actor=user, otp=code_at_step(device, 0), reason="oops")
    with pytest.raises(ValidationError, match="Say why"):
        do_link(secret.pk, make_secret().pk, actor=user, otp=code_at_step(device, 0), reason="  ")
    assert not SecretLink.objects.exists() and not entries(actions.LINK_CREATED)


def test_the_database_refuses_a_self_link_or_a_reversed_pair(make_secret):
    from django.db import IntegrityError, transaction

    a, b = make_secret(), make_secret()
    for first, second in ((a, a), (b, a)):
        with pytest.raises(IntegrityError), transaction.atomic():
            SecretLink.objects.create(first=first, second=second, reason="x")


def test_unlinking_needs_a_code_and_is_recorded(security_person, make_secret):
    user, device, _ = security_person
    a, b = make_secret(), make_secret()
    link = SecretLink.objects.create(first=a, second=b, reason="pair")
    with pytest.raises(StepUpFailed):
        do_unlink(link.pk, actor=user, otp="")
    assert SecretLink.objects.exists()
    do_unlink(link.pk, actor=user, otp=code_at_step(device, 0))
    assert not SecretLink.objects.exists()
    [entry] = entries(actions.LINK_REMOVED)
    assert entry.data == {"other": str(b), "other_id": b.pk, "reason": "pair"}


def test_removing_a_secret_removes_its_links_and_override(make_secret):
    a, b = make_secret(), make_secret()
    SecretLink.objects.create(first=a, second=b, reason="pair")
    SecretOverride.objects.create(secret=a, interval_days=3)
    Secret.objects.filter(pk=a.pk).delete()
    assert not SecretLink.objects.exists() and not SecretOverride.objects.exists()


def test_the_database_refuses_an_exemption_without_a_reason(make_secret):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        SecretOverride.objects.create(secret=make_secret(), exempt_until=timezone.now() + timedelta(days=1))
