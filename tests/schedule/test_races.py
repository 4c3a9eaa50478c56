"""Concurrent edits on PostgreSQL, with real threads: one link per pair whatever the order, and
policy edits serialised by the row lock so each audit entry's "old" is the previous "new"."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from secrets_admin.audit.models import AuditEntry
from secrets_admin.schedule import actions
from secrets_admin.schedule.models import SecretLink
from secrets_admin.schedule.services.links import do_link
from secrets_admin.schedule.services.policies import do_update_policy, policy_values
from tests.accounts.factories import code_at_step
from tests.markers import requires_postgres
from tests.schedule.conftest import member

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]


def run_together(*calls):
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait(10)
            outcomes[i] = call()
        except Exception as exc:  # collected and asserted by the test
            outcomes[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return outcomes


def test_two_people_linking_one_pair_at_once_make_one_link(make_secret):
    (carol, carol_device, _), (dave, dave_device, _) = (
        member("carol", "security-team"),
        member("dave", "security-team"),
    )
    a, b = make_secret(), make_secret()
    outcomes = run_together(
        lambda: do_link(
            a.pk, b.pk, actor=carol, otp=code_at_step(carol_device, 0), reason="key and consumer"
        ),
        lambda: do_link(b.pk, a.pk, actor=dave, otp=code_at_step(dave_device, 0), reason="consumer and key"),
    )
    refused = [o for o in outcomes if isinstance(o, ValidationError)]
    linked = [o for o in outcomes if isinstance(o, SecretLink)]
    assert len(linked) == 1 and len(refused) == 1, outcomes
    assert "already linked" in refused[0].messages[0]
    assert SecretLink.objects.count() == 1
    assert AuditEntry.objects.filter(action=actions.LINK_CREATED).count() == 1


def test_concurrent_policy_edits_are_recorded_in_the_order_they_happened(api_policy):
    (carol, carol_device, _), (dave, dave_device, _) = (
        member("carol", "security-team"),
        member("dave", "security-team"),
    )
    values = policy_values(api_policy)
    outcomes = run_together(
        lambda: do_update_policy(
            api_policy.pk,
            actor=carol,
            otp=code_at_step(carol_device, 0),
            values={**values, "interval_days": 60},
        ),
        lambda: do_update_policy(
            api_policy.pk,
            actor=dave,
            otp=code_at_step(dave_device, 0),
            values={**values, "interval_days": 45},
        ),
    )
    assert all(isinstance(o, dict) for o in outcomes), outcomes
    first, second = AuditEntry.objects.filter(action=actions.POLICY_UPDATED).order_by("id")
    assert first.data["changes"]["interval_days"][0] == 90
    assert second.data["changes"]["interval_days"][0] == first.data["changes"]["interval_days"][1]
    api_policy.refresh_from_db()
    assert api_policy.interval_days == second.data["changes"]["interval_days"][1]
