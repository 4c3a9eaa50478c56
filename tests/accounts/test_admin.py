"""No back door in the admin: nothing there changes people, groups, devices or anything else
without an audit entry, and group membership changed outside the services is still recorded."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, User
from django.db import transaction
from django.test import RequestFactory

from secrets_admin.accounts.signals import OUTSIDE_SERVICES
from secrets_admin.audit.models import AuditEntry
from tests.accounts.factories import code_at_step

pytestmark = pytest.mark.django_db

# Models a superuser may change in the admin because the change writes its own audit entry.
# Empty today: every change goes through a service. An entry here needs a test that the change
# it allows is audited.
AUDITED_IN_ADMIN: dict = {}

REGISTERED = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


def membership_entries(user):
    return list(
        AuditEntry.objects.filter(action__startswith="group.member.", target_id=str(user.pk))
        .order_by("id")
        .values_list("action", "actor_name", "data")
    )


def test_people_groups_addresses_and_lockouts_are_not_in_the_admin():
    from allauth.account.models import EmailAddress
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    for model in (User, Group, EmailAddress, AccessAttempt, AccessLog, AccessFailureLog):
        assert not admin.site.is_registered(model), model._meta.label


@pytest.mark.parametrize(("model", "model_admin"), REGISTERED, ids=[m._meta.label for m, _ in REGISTERED])
def test_no_model_in_the_admin_can_be_changed_there_without_an_audit_entry(person, model, model_admin):
    if model in AUDITED_IN_ADMIN:
        pytest.fail(f"{model._meta.label} is changeable in the admin: test its audit entry here")
    root, _, client = person("root", superuser=True)
    request = RequestFactory().get("/admin/")
    request.user = root
    label = model._meta.label
    assert not model_admin.has_add_permission(request), f"{label} can be added in the admin"
    assert not model_admin.has_change_permission(request), f"{label} can be changed in the admin"
    assert not model_admin.has_delete_permission(request), f"{label} can be deleted in the admin"
    assert not model_admin.get_actions(request), f"{label} has bulk actions in the admin"
    assert not model_admin.get_inlines(request, None), f"{label} edits related rows inline"

    # And over HTTP, as a verified superuser: reading works, every write is refused.
    base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
    before = model._default_manager.count(), AuditEntry.objects.count()
    assert client.get(base).status_code == 200
    assert client.post(f"{base}add/", {}).status_code == 403
    assert client.post(f"{base}1/change/", {}).status_code == 403
    assert client.post(f"{base}1/delete/", {"post": "yes"}).status_code == 403
    assert client.post(base, {"action": "delete_selected", "_selected_action": ["1"]}).status_code in (
        200,
        302,
        403,
    )
    assert (model._default_manager.count(), AuditEntry.objects.count()) == before


def test_the_admins_own_password_form_hands_over_to_the_audited_one(person):
    _, _, client = person("root", superuser=True)
    response = client.get("/admin/password_change/")
    assert response.status_code == 302 and response["Location"] == "/accounts/password/change/"


def test_membership_changed_in_a_shell_is_audited_from_either_side(person):
    alice, _, _ = person("alice", "developers", device=False)
    cto, managers = Group.objects.get(name="cto"), Group.objects.get(name="managers")
    start = AuditEntry.objects.count()

    alice.groups.add(cto)
    alice.groups.add(cto)  # already a member: nothing changes, nothing recorded
    managers.user_set.add(alice)
    alice.groups.remove(managers, Group.objects.get(name="security-team"))  # not in security-team
    cto.user_set.remove(alice)

    outside = {"via": "outside the console", "username": "alice"}
    assert membership_entries(alice)[-4:] == [
        ("group.member.added", OUTSIDE_SERVICES, {**outside, "group": "cto"}),
        ("group.member.added", OUTSIDE_SERVICES, {**outside, "group": "managers"}),
        ("group.member.removed", OUTSIDE_SERVICES, {**outside, "group": "managers"}),
        ("group.member.removed", OUTSIDE_SERVICES, {**outside, "group": "cto"}),
    ]
    assert AuditEntry.objects.count() == start + 4
    assert sorted(alice.groups.values_list("name", flat=True)) == ["developers"]


def test_clear_and_set_are_audited_per_membership(person):
    alice, _, _ = person("alice", "developers", "managers", device=False)
    alice.groups.clear()
    assert [(a, d["group"]) for a, _, d in membership_entries(alice)[-2:]] == [
        ("group.member.removed", "developers"),
        ("group.member.removed", "managers"),
    ]
    alice.groups.set([Group.objects.get(name="cto")])
    assert membership_entries(alice)[-1][0::2] == (
        "group.member.added",
        {
            "group": "cto",
            "username": "alice",
            "via": "outside the console",
        },
    )


def test_a_failing_audit_write_rolls_the_membership_change_back(person, monkeypatch):
    from secrets_admin.accounts import signals

    alice, _, _ = person("alice", "developers", device=False)

    def broken(*args, **kwargs):
        raise RuntimeError("ledger down")

    monkeypatch.setattr(signals, "record", broken)
    with pytest.raises(RuntimeError), transaction.atomic():  # a savepoint inside the test's transaction
        alice.groups.add(Group.objects.get(name="cto"))
    assert list(alice.groups.values_list("name", flat=True)) == ["developers"]


def test_the_members_service_is_audited_once_not_twice(person):
    carol, device, client = person("carol", "security-team")
    alice, _, _ = person("alice", "developers", device=False)
    before = len(membership_entries(alice))
    cto = Group.objects.get(name="cto")
    data = {"user": alice.pk, "group": "cto", "change": "add", "otp_code": code_at_step(device, 0)}
    assert client.post("/accounts/members/", data).status_code == 302
    entries = membership_entries(alice)[before:]
    assert entries == [("group.member.added", "carol", {"group": "cto", "username": "alice"})]
    assert alice.groups.filter(pk=cto.pk).exists()


def test_seeding_the_demo_is_audited_once(db):
    from secrets_admin.demo import seed_users

    seed_users()
    seed_users()  # idempotent: nothing new to record
    alice = User.objects.get(username="alice")
    assert membership_entries(alice) == [
        ("group.member.added", "seed_demo", {"group": "developers", "username": "alice"})
    ]
