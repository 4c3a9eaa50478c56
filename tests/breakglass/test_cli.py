"""`manage.py breakglass`: request, list, status, revoke; bad input exits 2 naming what is wrong."""

import io
import json

import hvac.exceptions
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from breakglass.models import AccessRequest, Grant
from breakglass.models.grant import GrantState
from breakglass.services import approve

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command("breakglass", *args, stdout=out)
    return out.getvalue()


def refused(*args) -> str:
    with pytest.raises(CommandError) as exc:
        run(*args)
    assert exc.value.returncode == 2
    return str(exc.value)


REASON = "The payments database is down and I must read its password."


def test_request_prints_the_id_and_the_approval_link(alice, secret_at):
    secret = secret_at("cli/db")
    out = run("request", "--user", "alice", "--reason", REASON, "--duration", "4h",
              "--approvers", "security-team,cto", "--scope", secret.path, "--no-record-session")  # fmt: skip
    access = AccessRequest.objects.get()
    assert f"Request #{access.pk}" in out and f"/access/{access.pk}/" in out
    assert access.kind == "break_glass" and access.record_session is False
    assert access.groups == ["security-team", "cto"] and access.duration_seconds == 4 * 3600


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"--user": "nobody"}, "Unknown user 'nobody'"),
        ({"--scope": "secret/not/there"}, "secret/not/there is not in the inventory"),
        ({"--duration": "9h"}, "at most 8 h"),
        ({"--reason": "fix it"}, "real sentence"),
        ({"--approvers": "security-team,cto,wizards"}, "Unknown approver group: wizards"),
    ],
)
def test_bad_input_exits_2_naming_what_is_wrong(alice, secret_at, change, words):
    args = {"--user": "alice", "--reason": REASON, "--duration": "4h", "--approvers": "security-team,cto",
            "--scope": secret_at("cli/db").path}  # fmt: skip
    args.update(change)
    message = refused("request", *[part for pair in args.items() for part in pair])
    assert words in message
    assert not AccessRequest.objects.exists()


def test_list_status_and_revoke(alice, carol, erin, secret_at, root):
    secret = secret_at("cli/db")
    run("request", "--user", "alice", "--reason", REASON, "--scope", secret.path)
    access = AccessRequest.objects.get()
    assert f"#{access.pk}\tpending" in run("list", "--status", "pending")
    assert "nonsense" in refused("list", "--status", "nonsense")
    approve.do_approve(access.pk, actor=carol.user, code=carol.code())
    approve.do_approve(access.pk, actor=erin.user, code=erin.code())
    doc = json.loads(run("status", str(access.pk), "--json"))
    assert doc["status"] == "active" and [a["group"] for a in doc["approvals"]] == ["security-team", "cto"]
    grant = Grant.objects.get()
    assert doc["grant"]["accessor"] == grant.accessor and "token" not in doc["grant"]
    assert "There is no request #999" in refused("revoke", "999", "--user", "carol")
    out = run("revoke", str(access.pk), "--user", "carol")
    assert "OpenBao confirmed" in out
    grant.refresh_from_db()
    assert grant.state == GrantState.REVOKED
    with pytest.raises(hvac.exceptions.InvalidRequest):
        root.auth.token.lookup_accessor(grant.accessor)
    assert "no active grant" in refused("revoke", str(access.pk), "--user", "carol")


def test_revoke_refuses_someone_who_may_not(alice, carol, erin, actor, secret_at):
    from secrets_admin.roles import DEVELOPERS

    actor("bob", DEVELOPERS)
    run(
        "request",
        "--user",
        "alice",
        "--reason",
        REASON,
        "--scope",
        secret_at("cli/x").path,
        "--kind",
        "standard",
    )
    access = AccessRequest.objects.get()
    approve.do_approve(access.pk, actor=carol.user, code=carol.code())
    assert "bob may not end this grant" in refused("revoke", str(access.pk), "--user", "bob")
