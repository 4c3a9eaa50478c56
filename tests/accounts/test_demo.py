"""seed_demo's people: created once, audited, and left alone on the next run."""

import pytest
from django.contrib.auth.models import User

from secrets_admin import demo
from secrets_admin.audit.models import AuditEntry


@pytest.mark.django_db
def test_demo_people_are_audited_once_and_a_rerun_changes_nothing():
    demo.seed_users()
    created = AuditEntry.objects.filter(action="user.created").order_by("id")
    added = AuditEntry.objects.filter(action="group.member.added").order_by("id")
    assert [e.data["username"] for e in created] == [u for u, _, _ in demo.DEMO_USERS]
    assert [(e.data["username"], e.data["group"]) for e in added] == [(u, g) for u, _, g in demo.DEMO_USERS]
    assert {e.actor_name for e in (*created, *added)} == {"seed_demo"}
    assert User.objects.get(username="carol").groups.filter(name="security-team").exists()

    before = AuditEntry.objects.count()
    demo.seed_users()
    assert AuditEntry.objects.count() == before
