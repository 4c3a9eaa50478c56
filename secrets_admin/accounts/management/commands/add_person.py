import getpass

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from secrets_admin.accounts.people import do_add_person
from secrets_admin.roles import GROUPS


class Command(BaseCommand):
    help = (
        "Add a person (audited as user.created, and group.member.added per group). The account has "
        "no password until the person sets one with 'Forgot your password?'."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("email")
        parser.add_argument("--name", default="", help='full name, e.g. "Alice Developer"')
        parser.add_argument("--group", action="append", default=[], choices=GROUPS, dest="groups")

    def handle(self, *args, username, email, name, groups, **options):
        actor = f"cli:{getpass.getuser()}"  # who ran it, as the operating system knows them
        try:
            user = do_add_person(actor=actor, username=username, email=email, full_name=name, groups=groups)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(
            f"Added {user.get_username()} ({', '.join(groups) or 'no group'}). Ask them to open "
            f"{reverse('account_reset_password')} on the console and enter {email} to choose a password."
        )
