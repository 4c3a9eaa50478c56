"""The grant: a real OpenBao token, looked up with the root token. Exactly the scoped policy,
TTL within the duration, reads the approved path and nothing else, one reveal, gone after
revoke or expiry."""

import uuid
from datetime import timedelta

import hvac
import hvac.exceptions
import pytest
from django.utils import timezone

from breakglass.models import Grant
from breakglass.models.grant import GrantState
from breakglass.models.request import Status
from breakglass.services import approve, grants
from breakglass.services.common import Refused
from secrets_admin.audit.models import AuditEntry, Intent

pytestmark = pytest.mark.django_db


@pytest.fixture
def granted(ask, secret_at, carol, erin):
    def make(*secrets, **kw):
        access = ask(*secrets, **kw)
        approve.do_approve(access.pk, actor=carol.user, code=carol.code())
        access.refresh_from_db()
        if access.status == Status.PENDING:  # break-glass: the cto slot too
            approve.do_approve(access.pk, actor=erin.user, code=erin.code())
            access.refresh_from_db()
        return access, Grant.objects.get(request=access)

    return make


def lookup(root, accessor):
    return root.auth.token.lookup_accessor(accessor)["data"]


def test_final_approval_issues_a_token_with_exactly_the_scoped_policy(granted, secret_at, root, kv_prefix):
    inside = secret_at("payments/db", "value-inside")
    secret_at("other/db", "value-outside")
    access, grant = granted(inside, duration="2h")
    assert access.status == Status.ACTIVE and grant.state == GrantState.ACTIVE
    data = lookup(root, grant.accessor)
    assert data["policies"] == [grant.policy_name]
    assert 0 < data["ttl"] <= 2 * 3600
    # the clock started at approval: what is left of the 2 h, never more
    assert 2 * 3600 - 60 < data["explicit_max_ttl"] <= 2 * 3600
    assert data["ttl"] <= data["explicit_max_ttl"]
    assert data["renewable"] is False
    assert data["meta"]["candlefish_request"] == str(access.pk)
    assert data["orphan"] is True
    policy = root.sys.read_policy(grant.policy_name)["data"]["rules"]
    assert policy.strip() == f'path "secret/data/{kv_prefix}/payments/db" {{ capabilities = ["read"] }}'
    assert Intent.objects.get(key=f"breakglass.request:{access.pk}").state == Intent.DONE
    entry = AuditEntry.objects.get(action="breakglass.granted")
    assert entry.data["accessor"] == grant.accessor and "token" not in str(entry.data).lower().replace(
        "accessor", ""
    )


def test_the_token_reads_the_approved_path_and_gets_403_elsewhere(
    granted, secret_at, alice, openbao, kv_prefix
):
    inside = secret_at("payments/db", "value-inside")
    secret_at("other/db", "value-outside")
    access, grant = granted(inside)
    token = grants.do_reveal(grant.pk, actor=alice.user, code=alice.code())
    client = hvac.Client(url=openbao.url, token=token)
    read = client.secrets.kv.v2.read_secret_version(
        path=f"{kv_prefix}/payments/db", mount_point="secret", raise_on_deleted_version=True
    )
    assert read["data"]["data"] == {"value": "value-inside"}
    with pytest.raises(hvac.exceptions.Forbidden):
        client.secrets.kv.v2.read_secret_version(
            path=f"{kv_prefix}/other/db", mount_point="secret", raise_on_deleted_version=True
        )
    with pytest.raises(hvac.exceptions.Forbidden):
        client.secrets.kv.v2.create_or_update_secret(
            path=f"{kv_prefix}/payments/db", secret={"value": "x"}, mount_point="secret"
        )


def test_the_token_is_revealed_once_to_its_requester_only(granted, secret_at, alice, carol):
    access, grant = granted(secret_at("x"))
    assert grant.sealed_token and grant.sealed_token.startswith("gAAAA")  # Fernet, never the token
    with pytest.raises(Refused, match="Only the person who asked"):
        grants.do_reveal(grant.pk, actor=carol.user, code=carol.code())
    token = grants.do_reveal(grant.pk, actor=alice.user, code=alice.code())
    assert token.startswith(("s.", "hvs.", "b."))
    grant.refresh_from_db()
    assert grant.sealed_token == "" and grant.revealed_at is not None
    with pytest.raises(Refused, match="already revealed"):
        grants.do_reveal(grant.pk, actor=alice.user, code=alice.code())


def test_ending_early_revokes_the_token_and_the_lookup_fails(granted, secret_at, root, carol, alice):
    access, grant = granted(secret_at("x"))
    grants.do_end(grant.pk, actor=carol.user, code=carol.code(), reason="incident over")
    grant.refresh_from_db()
    access.refresh_from_db()
    assert grant.state == GrantState.REVOKED and grant.token_gone_at and access.status == Status.REVOKED
    with pytest.raises(hvac.exceptions.InvalidRequest):
        lookup(root, grant.accessor)
    with pytest.raises(Refused, match="not active"):
        grants.do_reveal(grant.pk, actor=alice.user, code=alice.code())


def test_beat_ends_an_expired_grant_idempotently(granted, secret_at, root):
    access, grant = granted(secret_at("x"), kind="standard")
    assert grants.end_expired() == {"ended": 0, "waiting": 0}
    later = timezone.now() + timedelta(hours=5)
    assert grants.end_expired(now=later) == {"ended": 1, "waiting": 0}
    assert grants.end_expired(now=later) == {"ended": 0, "waiting": 0}
    grant.refresh_from_db()
    access.refresh_from_db()
    assert grant.state == GrantState.ENDED and access.status == Status.ENDED
    with pytest.raises(hvac.exceptions.InvalidRequest):
        lookup(root, grant.accessor)


def test_a_token_that_expired_in_openbao_is_still_ended_cleanly(granted, secret_at, root, alice):
    access, grant = granted(secret_at("x"), kind="standard", duration="15m")
    root.auth.token.revoke_accessor(grant.accessor)  # as if its TTL had run out
    grants.end(grant, actor="test", why="expired")
    grant.refresh_from_db()
    assert grant.state == GrantState.ENDED


def test_openbao_refusing_the_token_fails_the_grant_in_words(granted, secret_at, settings, openbao):
    settings.SECRET_BACKENDS = {
        **settings.SECRET_BACKENDS,
        "vault": {**settings.SECRET_BACKENDS["vault"], "token": "not-a-token"},
    }
    access, grant = granted(secret_at("x"))
    assert grant.state == GrantState.FAILED and access.status == Status.FAILED
    assert grant.accessor == "" and grant.sealed_token == ""
    assert Intent.objects.get(key=f"breakglass.request:{access.pk}").state == Intent.FAILED


def test_the_consoles_own_approle_policy_is_enough_to_mint_and_revoke_grant_tokens(root, openbao, settings):
    """Production runs on the candlefish-console AppRole, not a root token."""
    from secrets_admin.backends import get_backend
    from secrets_admin.backends import vault_tokens as tokens

    role_id = root.auth.approle.read_role_id("candlefish-console")["data"]["role_id"]
    secret_id = root.auth.approle.generate_secret_id("candlefish-console")["data"]["secret_id"]
    base = {k: v for k, v in settings.SECRET_BACKENDS["vault"].items() if k != "token"}
    settings.SECRET_BACKENDS = {
        **settings.SECRET_BACKENDS,
        "approle": {**base, "url": openbao.url, "role_id": role_id, "secret_id": secret_id},
    }
    backend = get_backend("approle")
    name = "candlefish-grant-approle-check"
    tokens.write_policy(backend, name, 'path "secret/data/approle/x" { capabilities = ["read"] }\n')
    issued = tokens.create_token(
        backend, policy=name, seconds=600, metadata={"check": uuid.uuid4().hex}, display_name="check"
    )
    data = tokens.lookup_accessor(backend, issued.accessor)
    assert data["policies"] == [name] and data["orphan"] is True and data["explicit_max_ttl"] == 600
    # the reconciler's search for a token minted but never recorded (sudo on auth/token/accessors)
    assert tokens.find_accessors(backend, {"check": data["meta"]["check"]}) == [issued.accessor]
    tokens.revoke_accessor(backend, issued.accessor)
    tokens.revoke_accessor(backend, issued.accessor)  # idempotent
    assert tokens.lookup_accessor(backend, issued.accessor) is None
    tokens.delete_policy(backend, name)


def test_the_reconciler_disarms_a_grant_whose_process_died(ask, secret_at, carol, erin, root, monkeypatch):
    from secrets_admin.audit import intents

    access = ask(secret_at("x"))
    approve.do_approve(access.pk, actor=carol.user, code=carol.code())
    monkeypatch.setattr(grants, "issue", lambda final, **kw: None)  # the process "dies" after the commit
    approve.do_approve(access.pk, actor=erin.user, code=erin.code())
    grant = Grant.objects.get(request=access)
    assert grant.state == GrantState.ISSUING
    root.sys.create_or_update_policy(grant.policy_name, 'path "secret/data/x" { capabilities = ["read"] }')
    intents.reconcile(older_than=timedelta(0))
    grant.refresh_from_db()
    access.refresh_from_db()
    assert grant.state == GrantState.FAILED and access.status == Status.FAILED
    assert grant.policy_name not in root.sys.list_policies()["data"]["policies"]
    assert Intent.objects.get(key=f"breakglass.request:{access.pk}").state == Intent.FAILED
