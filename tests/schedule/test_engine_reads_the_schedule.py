"""The rotation engine follows the schedule: due_secrets leaves out a secret with an active run
(or a failed one waiting for a person) and staggers the secrets linked to it; a run gets its
policy's tries; blue-green its overlap; the missed-rotation detector its grace period, and it
leaves exempt secrets alone."""

from datetime import timedelta

import pytest
from django.utils import timezone

from secrets_admin.alerts.models import Alert
from secrets_admin.rotation.models import RotationRun
from secrets_admin.rotation.services import scheduler
from secrets_admin.rotation.services.runs import start_run
from secrets_admin.rotation.strategies.blue_green import overlap_hours
from secrets_admin.schedule import planner
from secrets_admin.schedule.models import PolicySettings, SecretLink, SecretOverride

pytestmark = pytest.mark.django_db


def test_a_secret_with_an_active_run_is_not_due_and_its_linked_secret_waits(make_secret):
    now = timezone.now()
    key = make_secret(due=now - timedelta(hours=2))
    consumer = make_secret(due=now - timedelta(hours=1))
    bystander = make_secret(due=now - timedelta(hours=1))
    SecretLink.objects.create(first=key, second=consumer, reason="key and consumer")
    run = RotationRun.objects.create(secret=key, strategy="blue-green", state="running")
    RotationRun.objects.filter(pk=run.pk).update(created_at=now - timedelta(hours=3))
    assert [s.pk for s in planner.due_secrets(now)] == [bystander.pk]
    RotationRun.objects.filter(pk=run.pk).update(state="failed")
    # a failed run waits for a person, not for the schedule: the consumer goes ahead
    assert [s.pk for s in planner.due_secrets(now)] == [consumer.pk, bystander.pk]
    RotationRun.objects.create(secret=key, strategy="blue-green", state="cancelled")
    RotationRun.objects.filter(secret=key, state="cancelled").update(created_at=now - timedelta(hours=2))
    # the key is due again and ahead of the consumer in the batch: the consumer waits
    assert [s.pk for s in planner.due_secrets(now)] == [key.pk, bystander.pk]


def test_a_linked_secrets_recent_run_staggers_the_other(make_secret):
    now = timezone.now()
    key = make_secret(due=now + timedelta(days=80))
    consumer = make_secret(due=now - timedelta(hours=1))
    SecretLink.objects.create(first=key, second=consumer, reason="key and consumer")
    run = RotationRun.objects.create(secret=key, strategy="blue-green", state="finished")
    RotationRun.objects.filter(pk=run.pk).update(created_at=now - timedelta(minutes=30))
    assert list(planner.due_secrets(now)) == []
    RotationRun.objects.filter(pk=run.pk).update(created_at=now - timedelta(minutes=61))
    assert [s.pk for s in planner.due_secrets(now)] == [consumer.pk]


def test_a_run_gets_its_policys_tries_and_blue_green_its_overlap(make_secret, api_policy, settings):
    secret = make_secret("secret/engine/key")
    assert overlap_hours(secret) == settings.ROTATION_OVERLAP_HOURS  # nobody edited the policy yet
    PolicySettings.objects.create(policy=api_policy, max_attempts=3, overlap_hours=6)
    run = start_run(secret, actor="test", reason="cli")
    assert run.max_attempts == 3 and run.strategy == "blue-green"
    assert overlap_hours(secret) == 6.0


def test_the_override_strategy_is_the_one_a_run_uses(make_secret):
    from secrets_admin.rotation.services.runs import policy_strategy

    secret = make_secret("secret/engine/key")
    SecretOverride.objects.create(secret=secret, strategy="rolling")
    assert policy_strategy(secret) == "rolling"


def test_missed_rotations_use_the_policys_grace_and_skip_exempt_secrets(make_secret, api_policy):
    now = timezone.now()
    late = make_secret("secret/engine/late", due=now - timedelta(hours=5))
    exempt = make_secret("secret/engine/exempt", due=now - timedelta(hours=5))
    SecretOverride.objects.create(secret=exempt, exempt_until=now + timedelta(days=1), exempt_reason="freeze")
    assert scheduler.detect_missed(now) == {"warning": 1, "critical": 0}
    PolicySettings.objects.create(policy=api_policy, grace_hours=2)
    assert scheduler.detect_missed(now) == {"warning": 0, "critical": 1}
    assert list(Alert.objects.filter(event="rotation.missed").values_list("target_id", flat=True)) == [
        str(late.pk)
    ]
