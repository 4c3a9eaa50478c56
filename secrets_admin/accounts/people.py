"""Adding a person: the audited way in, now that the admin has no user form.

The account starts without a usable password; the person chooses one through "Forgot your
password?" (a link to their mailbox), so nobody else ever knows it. Groups are given in the same
transaction, each with its own entry.
"""

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from secrets_admin.accounts.members import membership_audited
from secrets_admin.audit.services import record
from secrets_admin.roles import GROUPS


def do_add_person(*, actor, username: str, email: str, full_name: str = "", groups=()) -> object:
    """Create the account and its groups; returns the user. Raises ValidationError (name or
    address taken, malformed, unknown group) and then nothing is created."""
    users = get_user_model().objects
    username, email = username.strip(), email.strip()
    validate_email(email)
    if not username or users.filter(username__iexact=username).exists():
        raise ValidationError(f"The username {username!r} is empty or taken.")
    if (
        EmailAddress.objects.filter(email__iexact=email).exists()
        or users.filter(email__iexact=email).exists()
    ):
        raise ValidationError(f"The address {email} already belongs to an account.")
    unknown = sorted(set(groups) - set(GROUPS))
    if unknown:
        raise ValidationError(f"Unknown group(s) {', '.join(unknown)}: choose from {', '.join(GROUPS)}.")
    first, _, last = full_name.strip().partition(" ")
    with transaction.atomic():
        user = users.create_user(username, email, password=None, first_name=first, last_name=last)
        EmailAddress.objects.create(user=user, email=email, primary=True, verified=False)
        record("user.created", actor=actor, target=user, data={"username": username})
        for group in Group.objects.filter(name__in=groups).order_by("name"):
            with membership_audited():
                user.groups.add(group)
            record(
                "group.member.added",
                actor=actor,
                target=user,
                data={"group": group.name, "username": username},
            )
    return user
