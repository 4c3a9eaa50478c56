"""OpenBao's database engine on the scram target: connection, rotate-root, static roles
(rotate-role), dynamic leases listed with their TTL, orphaned leases revoked; PKI replacements."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from secrets_admin.backends import get_backend
from secrets_admin.backends import vault_engines as engines
from secrets_admin.backends.base import BackendError
from secrets_admin.backends.postgres_target import PostgresTarget


@pytest.fixture
def vault(servers):
    return get_backend("vault")


@pytest.fixture
def engine(vault, target_db):
    """A connection (root login rotated: only OpenBao knows it), a dynamic and a static role."""
    names = target_db.configure_engine(vault)
    yield names
    db = vault.mounts["database"]
    vault._call("PUT", f"sys/leases/revoke-prefix/{db}/creds/{names['dynamic_role']}", "clean up")
    for kind in ("static-roles", "roles", "config"):
        name = {"static-roles": names["static_role"], "roles": names["dynamic_role"]}.get(
            kind, names["connection"]
        )
        vault._call("DELETE", f"{db}/{kind}/{name}", "clean up")


def test_rotate_root_leaves_only_openbao_knowing_the_root_login(vault, target_db, engine):
    # configure_database_engine rotated the root login at once: the password we gave is refused,
    # and OpenBao still logs in (it can issue a credential, which needs the root login).
    assert not target_db.target.login_works(target_db.owner, target_db.owner_password)
    lease_id, user, password = engines.dynamic_credentials(vault, engine["dynamic_role"])
    assert target_db.target.login_works(user, password)
    engines.rotate_root(vault, engine["connection"])
    _, user2, password2 = engines.dynamic_credentials(vault, engine["dynamic_role"])
    assert target_db.target.login_works(user2, password2)
    assert engines.connection_target(vault, engine["connection"]) == PostgresTarget(
        engine["connection"], target_db.target.host, target_db.target.port, target_db.target.database
    )


def test_rotate_role_gives_the_static_login_a_new_password_and_refuses_the_old(vault, target_db, engine):
    user, before, rotated_at = engines.static_credentials(vault, engine["static_role"])
    assert user == engine["static_login"] and target_db.target.login_works(user, before)
    engines.rotate_role(vault, engine["static_role"])
    user, after, rotated_again = engines.static_credentials(vault, engine["static_role"])
    assert after != before and rotated_again > rotated_at
    assert target_db.target.login_works(user, after) and not target_db.target.login_works(user, before)
    assert engines.static_role(vault, engine["static_role"])["last_vault_rotation"] == rotated_again


def test_leases_are_listed_with_their_ttl_and_orphans_are_flagged(vault, target_db, engine):
    issued = [engines.dynamic_credentials(vault, engine["dynamic_role"]) for _ in range(2)]
    mine = {
        lease.lease_id: lease for lease in engines.list_leases(vault) if lease.role == engine["dynamic_role"]
    }
    assert set(mine) == {lease_id for lease_id, _, _ in issued}
    now = datetime.now(UTC)
    for lease in mine.values():
        assert 0 < lease.ttl_seconds <= 3600 and lease.expires_at <= now + timedelta(days=7)
        assert not lease.orphaned and not lease.too_long
    # The role is deleted: its leases still work on the target until revoked — orphans.
    vault._call("DELETE", f"{vault.mounts['database']}/roles/{engine['dynamic_role']}", "delete role")
    orphans = [lease for lease in engines.list_leases(vault) if lease.role == engine["dynamic_role"]]
    assert orphans and all(lease.orphaned for lease in orphans)
    lease_id, user, password = issued[0]
    assert target_db.target.login_works(user, password)
    engines.revoke_lease(vault, lease_id)
    assert not target_db.target.login_works(user, password), "revoking dropped the login"
    assert lease_id not in {lease.lease_id for lease in engines.list_leases(vault)}
    engines.revoke_lease(vault, lease_id)  # already gone: not an error


def test_only_database_leases_are_revoked_here(vault):
    with pytest.raises(BackendError, match="only database-engine leases") as caught:
        engines.revoke_lease(vault, "auth/token/create/abc")
    assert caught.value.permanent


def test_a_replacement_certificate_has_the_same_names_and_lifetime_and_names_its_run(vault):
    pki = vault.mounts["pki"]
    cn = f"svc-{uuid.uuid4().hex[:6]}.payments.internal"
    body = {"common_name": cn, "ttl": "240h", "alt_names": f"alt.{cn}"}
    answer = vault._call("POST", f"{pki}/issue/candlefish", "issue", json=body)
    old = engines.certificate_facts(vault, answer["data"]["serial_number"])
    token = uuid.uuid4().hex
    assert engines.find_replacement(vault, cn, token) is None
    serial = engines.issue_replacement(vault, old, token)
    new = engines.certificate_facts(vault, serial)
    assert serial != old["serial"] and new["common_name"] == cn and f"alt.{cn}" in new["dns_names"]
    assert abs((new["not_after"] - new["not_before"]) - (old["not_after"] - old["not_before"])) < timedelta(
        minutes=2
    )
    assert new["not_after"] > old["not_after"]
    assert engines.find_replacement(vault, cn, token) == serial
    assert engines.find_replacement(vault, cn, uuid.uuid4().hex) is None
