"""The Members page: security team only, a fresh code per change, never one's own groups."""

import pytest
from django.contrib.auth.models import Group

from tests.accounts.factories import actions, code_at_step, last_entry

pytestmark = pytest.mark.django_db
MEMBERS = "/accounts/members/"


@pytest.fixture
def team(person):
    carol = person("carol", "security-team")
    alice = person("alice", "developers")
    return carol, alice


def groups_of(user):
    return sorted(user.groups.values_list("name", flat=True))


def test_security_team_adds_and_removes_a_member_with_a_code_each_time(team):
    (carol, device, client), (alice, _, _) = team
    response = client.post(
        MEMBERS, {"user": alice.pk, "group": "cto", "change": "add", "otp_code": code_at_step(device, 0)}
    )
    assert response.status_code == 302
    assert groups_of(alice) == ["cto", "developers"]
    entry = last_entry("group.member.added")
    assert entry.actor_id == carol.pk and entry.data == {"group": "cto", "username": "alice"}
    assert entry.target_id == str(alice.pk)

    response = client.post(
        MEMBERS, {"user": alice.pk, "group": "cto", "change": "remove", "otp_code": code_at_step(device, 1)}
    )
    assert response.status_code == 302
    assert groups_of(alice) == ["developers"]
    assert actions(actor=carol)[-4:] == [
        "mfa.stepup.verified",
        "group.member.added",
        "mfa.stepup.verified",
        "group.member.removed",
    ]


def test_the_page_lists_people_and_groups(team):
    (_, _, client), _ = team
    response = client.get(MEMBERS)
    assert response.status_code == 200
    assert b"alice" in response.content and b"security-team" in response.content


def test_a_wrong_or_reused_code_changes_nothing_and_is_audited(team):
    (carol, device, client), (alice, _, _) = team
    code = code_at_step(device, 0)
    assert (
        client.post(
            MEMBERS, {"user": alice.pk, "group": "cto", "change": "add", "otp_code": code}
        ).status_code
        == 302
    )
    response = client.post(
        MEMBERS, {"user": alice.pk, "group": "managers", "change": "add", "otp_code": code}
    )
    assert response.status_code == 400 and b"already used" in response.content
    assert groups_of(alice) == ["cto", "developers"]
    failed = last_entry("mfa.code.failed")
    assert failed.actor_id == carol.pk
    assert failed.data == {
        "purpose": f"group.member.added:{alice.pk}:{Group.objects.get(name='managers').pk}",
        "reason": "reused",
        "step_up": True,
    }


def test_nobody_changes_their_own_groups(team):
    (carol, device, client), _ = team
    response = client.post(
        MEMBERS, {"user": carol.pk, "group": "cto", "change": "add", "otp_code": code_at_step(device, 0)}
    )
    assert response.status_code == 400 and b"cannot change your own groups" in response.content
    assert groups_of(carol) == ["security-team"]
    assert last_entry("group.member.refused").data == {"reason": "invalid_form", "fields": ["user"]}


@pytest.mark.parametrize(
    "tamper",
    [{"user": "999999"}, {"group": "superusers"}, {"change": "promote"}, {"user": "1 OR 1=1"}, {"group": ""}],
)
def test_tampered_fields_are_refused_clearly_change_nothing_and_are_audited(team, tamper):
    (carol, device, client), (alice, _, _) = team
    data = {"user": alice.pk, "group": "cto", "change": "add", "otp_code": code_at_step(device, 0), **tamper}
    before = {u: groups_of(u) for u in (carol, alice)}
    response = client.post(MEMBERS, data)
    assert response.status_code == 400
    assert b"Select a valid choice" in response.content or b"This field is required" in response.content
    assert {u: groups_of(u) for u in (carol, alice)} == before
    assert last_entry("group.member.refused").data["reason"] == "invalid_form"
    assert "mfa.stepup.verified" not in actions()  # the code was not spent on a refused form


@pytest.mark.parametrize("group", ["developers", "cto", "managers"])
def test_other_groups_get_403_and_change_nothing(person, group):
    target, _, _ = person("alice", "developers")
    _, device, client = person("eve", group)
    response = client.post(
        MEMBERS,
        {"user": target.pk, "group": "security-team", "change": "add", "otp_code": code_at_step(device, 0)},
    )
    assert response.status_code == 403
    assert groups_of(target) == ["developers"]
