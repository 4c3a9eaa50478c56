"""`manage.py add_person`: the audited way to add someone now that the admin has no user form."""

import getpass
import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import Client

from secrets_admin.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_a_person_is_added_with_groups_audited_and_sets_their_own_password():
    call_command(
        "add_person", "nina", "nina@candlefish.example", "--name", "Nina New", "--group", "developers"
    )
    nina = get_user_model().objects.get(username="nina")
    assert nina.get_full_name() == "Nina New" and not nina.has_usable_password()
    assert list(nina.groups.values_list("name", flat=True)) == ["developers"]
    entries = list(
        AuditEntry.objects.filter(target_id=str(nina.pk), target_type="auth.user")
        .order_by("id")
        .values_list("action", "actor_name", "data")
    )
    actor = f"cli:{getpass.getuser()}"
    assert entries == [
        ("user.created", actor, {"username": "nina"}),
        ("group.member.added", actor, {"group": "developers", "username": "nina"}),
    ]

    client = Client(REMOTE_ADDR="198.51.100.61")
    client.post("/accounts/password/reset/", {"email": "nina@candlefish.example"})
    link = re.search(r"https?://[^/]+(/accounts/password/reset/key/\S+/)", mail.outbox[-1].body).group(1)
    form = client.get(link)["Location"]
    client.post(form, {"password1": "ninas-own-password-7", "password2": "ninas-own-password-7"})
    nina.refresh_from_db()
    assert nina.check_password("ninas-own-password-7")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["alice", "someone@candlefish.example"], "taken"),
        (["ALICE", "someone@candlefish.example"], "taken"),
        (["zed", "alice@candlefish.example"], "already belongs"),
        (["zed", "not-an-address"], "valid email"),
    ],
)
def test_taken_or_malformed_details_are_refused_and_nothing_is_created(django_user_model, args, message):
    django_user_model.objects.create_user("alice", "alice@candlefish.example", "x" * 16)
    before = AuditEntry.objects.count(), django_user_model.objects.count()
    with pytest.raises(CommandError, match=message):
        call_command("add_person", *args)
    assert (AuditEntry.objects.count(), django_user_model.objects.count()) == before
