"""RotationRun: one active run per secret, held by the database itself."""

import pytest
from django.db import IntegrityError, transaction

from secrets_admin.rotation.models import RotationRun
from secrets_admin.rotation.strategies import STRATEGIES, UnknownStrategy, get_strategy

pytestmark = pytest.mark.django_db


def test_the_database_refuses_a_second_active_run_for_one_secret(make_secret):
    secret = make_secret("secret/a/key")
    RotationRun.objects.create(secret=secret, strategy="blue-green")
    with pytest.raises(IntegrityError), transaction.atomic():
        RotationRun.objects.create(secret=secret, strategy="blue-green", state=RotationRun.State.RETRYING)
    assert RotationRun.objects.filter(secret=secret).count() == 1


def test_a_finished_run_does_not_block_the_next(make_secret):
    secret = make_secret("secret/a/key")
    for state in ("finished", "failed", "needs_person", "cancelled"):
        RotationRun.objects.create(secret=secret, strategy="blue-green", state=state)
    RotationRun.objects.create(secret=secret, strategy="blue-green")
    assert RotationRun.objects.filter(secret=secret, state__in=RotationRun.ACTIVE).count() == 1
    assert len(set(RotationRun.objects.values_list("token", flat=True))) == 5  # one token per run


def test_model_choices_follow_the_strategy_registry():
    field = RotationRun._meta.get_field("strategy")
    assert [value for value, _ in field.choices] == list(STRATEGIES)


def test_an_unknown_strategy_is_named_in_words():
    with pytest.raises(UnknownStrategy, match="no rotation strategy named 'shuffle'"):
        get_strategy("shuffle")
