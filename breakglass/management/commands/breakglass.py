"""`manage.py breakglass request|list|status|revoke`: ask for access, see requests, end a grant.

Approvals stay in the browser (a fresh one-time code per approver); nothing here approves.
Bad input exits 2 with a message naming what is wrong.
"""

import getpass
import json

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from breakglass.models import AccessRequest, Grant
from breakglass.models.grant import GrantState
from breakglass.models.request import Kind, Status
from breakglass.services import grants, requests
from secrets_admin.backends import BackendError


def _bad(message: str) -> CommandError:
    return CommandError(message, returncode=2)


class Command(BaseCommand):
    help = "Access requests and break-glass from the command line (approvals happen in the browser)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        ask = sub.add_parser("request", help="ask for access; prints the request id and the approval link")
        ask.add_argument("--user", required=True, help="who asks (a console username)")
        ask.add_argument("--reason", required=True)
        ask.add_argument("--duration", default="", help="like 4h, 90m or 1h30m (default 4h)")
        ask.add_argument("--approvers", default="", help="comma-separated groups, e.g. security-team,cto")
        ask.add_argument("--scope", action="append", default=[], help="an inventory path (repeat for more)")
        ask.add_argument("--kind", default=Kind.BREAK_GLASS, help="break_glass (default) or standard")
        ask.add_argument("--ticket", default="")
        ask.add_argument("--record-session", action="store_true", dest="record_session", default=True)
        ask.add_argument("--no-record-session", action="store_false", dest="record_session")
        listing = sub.add_parser("list", help="requests, newest first")
        listing.add_argument("--status", default="")
        status = sub.add_parser("status", help="one request, its approvals and grant")
        status.add_argument("id")
        status.add_argument("--json", action="store_true")
        revoke = sub.add_parser("revoke", help="end a grant now: revoke its token in OpenBao")
        revoke.add_argument("id", help="the request id")
        revoke.add_argument("--user", required=True, help="who revokes: the requester or the security team")

    def handle(self, *args, action, **options):
        run = {"request": self._ask, "list": self._list, "status": self._status, "revoke": self._revoke}
        run[action](**options)

    def _user(self, username):
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise _bad(f"Unknown user {username!r}: use a console username (manage.py add_person adds one).")
        return user

    def _request(self, pk) -> AccessRequest:
        if not str(pk).isdigit():
            raise _bad(f"Request id must be a number, not {pk!r}.")
        found = AccessRequest.objects.filter(pk=int(pk)).first()
        if found is None:
            raise _bad(f"There is no request #{pk}.")
        return found

    def _ask(self, *, user, reason, duration, approvers, scope, kind, ticket, record_session, **o):
        actor = self._user(user)
        groups = [g.strip() for g in approvers.split(",") if g.strip()]
        try:
            access = requests.do_request(
                actor=actor,
                kind=kind,
                reason=reason,
                scope=scope,
                duration=duration or None,
                groups=groups,
                ticket=ticket,
                record_session=record_session,
            )
        except ValidationError as exc:
            raise _bad(" ".join(exc.messages)) from exc
        self.stdout.write(f"Request #{access.pk} is waiting for {' and '.join(access.groups)}.")
        self.stdout.write(f"Approve it in the browser: {_link(access)}")
        self.stdout.write(f"Fingerprint: {access.fingerprint}")

    def _list(self, *, status, **o):
        rows = AccessRequest.objects.all()
        if status:
            if status not in Status.values:
                raise _bad(f"Status must be one of {', '.join(Status.values)}, not {status!r}.")
            rows = rows.filter(status=status)
        for access in rows[:500]:
            self.stdout.write(
                f"#{access.pk}\t{access.status}\t{access.kind}\t{access.requester_name}\t"
                f"{access.duration_words}\t{', '.join(access.paths)}"
            )

    def _status(self, *, id, json: bool, **o):  # noqa: A002 (argparse names it)
        access = self._request(id)
        grant = Grant.objects.filter(request=access).first()
        doc = {
            "id": access.pk,
            "kind": access.kind,
            "status": access.status,
            "requester": access.requester_name,
            "paths": access.paths,
            "duration_seconds": access.duration_seconds,
            "groups": access.groups,
            "fingerprint": access.fingerprint,
            "approvals": [
                {"group": a.group, "approver": a.approver_name, "at": a.created_at.isoformat()}
                for a in access.approvals.filter(voided_at__isnull=True)
            ],
            "grant": None
            if grant is None
            else {
                "id": grant.pk,
                "state": grant.state,
                "accessor": grant.accessor,
                "expires_at": grant.expires_at.isoformat(),
                "revealed": grant.revealed_at is not None,
                "issue_commands": grants.certificate_commands(grant),  # certificates in scope
            },
            "link": _link(access),
        }
        if json:
            self.stdout.write(_dumps(doc))
            return
        self.stdout.write(
            f"Request #{access.pk} ({access.get_kind_display()}): {access.get_status_display()}"
        )
        self.stdout.write(
            f"  by {access.requester_name} for {access.duration_words}: {', '.join(access.paths)}"
        )
        given = ", ".join(f"{a['group']} by {a['approver']}" for a in doc["approvals"])
        self.stdout.write(f"  approvals: {given or 'none'}")
        if grant:
            self.stdout.write(
                f"  grant #{grant.pk}: {grant.get_state_display()}, "
                f"until {grant.expires_at:%Y-%m-%d %H:%M} UTC"
            )
            for line in doc["grant"]["issue_commands"]:
                self.stdout.write(f"  with its token: {line}")
        self.stdout.write(f"  {doc['link']}")

    def _revoke(self, *, id, user, **o):  # noqa: A002
        access = self._request(id)
        actor = self._user(user)
        grant = Grant.objects.filter(request=access).first()
        if grant is None or grant.state != GrantState.ACTIVE:
            raise _bad(f"Request #{access.pk} has no active grant to revoke.")
        if not grants.may_end(actor, grant):
            raise _bad(
                f"{actor.get_username()} may not end this grant: only its requester or the security team."
            )
        try:
            grants.end(
                grant, actor=actor, why=f"revoked from the command line (cli:{getpass.getuser()})", early=True
            )
        except BackendError as exc:
            raise CommandError(
                f"OpenBao did not confirm the token is gone ({exc.reason or 'unavailable'}); try again."
            ) from exc
        self.stdout.write(
            f"Revoked grant #{grant.pk} of request #{access.pk}; OpenBao confirmed its token is gone."
        )


def _link(access) -> str:
    return settings.CONSOLE_URL.rstrip("/") + access.get_absolute_url()


def _dumps(doc) -> str:
    return json.dumps(doc, indent=2, sort_keys=True)
