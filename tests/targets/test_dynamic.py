"""Dynamic against real servers: OpenBao's database engine on the scram PostgreSQL target."""

import pytest

from secrets_admin.backends import get_backend
from secrets_admin.backends import vault_engines as engines
from secrets_admin.rotation.services import engine as run_engine
from secrets_admin.rotation.services import start_run
from secrets_admin.rotation.strategies import StepContext, get_strategy

pytestmark = pytest.mark.django_db


@pytest.fixture
def database_engine(servers, target_db):
    """A connection, a dynamic and a static role on the session's target (root login rotated)."""
    vault = get_backend("vault")
    names = target_db.configure_engine(vault)
    yield names
    db = vault.mounts["database"]
    vault._call("PUT", f"sys/leases/revoke-prefix/{db}/creds/{names['dynamic_role']}", "clean up")


def test_a_static_role_rotates_and_the_credential_openbao_reports_logs_in(
    make_secret, database_engine, target_db
):
    vault, role = get_backend("vault"), database_engine["static_role"]
    user, old, rotated_at = engines.static_credentials(vault, role)
    secret = make_secret(f"database/static-roles/{role}", kind="database")
    run = start_run(secret, actor="test", reason="cli")
    assert run.strategy == "dynamic"
    assert run_engine.advance(run.pk)["state"] == "finished"
    run.refresh_from_db()
    user, new, now_at = engines.static_credentials(vault, role)
    assert new != old and now_at > rotated_at
    assert run.new_version_id == now_at.isoformat()
    assert target_db.target.login_works(user, new) and not target_db.target.login_works(user, old)
    assert new not in str(run.state_data)


def test_static_role_steps_run_twice_rotate_once(make_secret, database_engine, target_db):
    vault, role = get_backend("vault"), database_engine["static_role"]
    secret = make_secret(f"database/static-roles/{role}", kind="database")
    run = start_run(secret, actor="test", reason="cli")
    ctx = StepContext(run=run, secret=secret, backend=vault, token=run.token, state={})
    strategy = get_strategy("dynamic")
    strategy.create(ctx)
    strategy.set(ctx)
    _, after_first, first_at = engines.static_credentials(vault, role)
    strategy.create(ctx)
    strategy.set(ctx)  # a re-run after a crash: OpenBao rotated already, so it is not asked again
    _, after_second, second_at = engines.static_credentials(vault, role)
    assert (after_second, second_at) == (after_first, first_at) and ctx.state["already_set"]
    strategy.test(ctx)
    strategy.finish(ctx)
    assert ctx.state["new_version_id"] == first_at.isoformat()


def test_the_connection_root_credential_rotates_and_openbao_still_logs_in(
    make_secret, database_engine, target_db
):
    vault, connection = get_backend("vault"), database_engine["connection"]
    secret = make_secret(f"database/config/{connection}", kind="database")
    run = start_run(secret, actor="test", reason="schedule")
    assert run_engine.advance(run.pk)["state"] == "finished"
    run.refresh_from_db()
    assert run.new_version_id == run.token
    # The proof's credential was revoked again; a new one still works: OpenBao's root login does.
    assert not [
        lease for lease in engines.list_leases(vault) if lease.role == database_engine["dynamic_role"]
    ]
    lease_id, user, password = engines.dynamic_credentials(vault, database_engine["dynamic_role"])
    assert target_db.target.login_works(user, password)
    assert not target_db.target.login_works(target_db.owner, target_db.owner_password)


def test_a_dynamic_role_is_not_rotated(make_secret):
    refusal = get_strategy("dynamic").applies_to(make_secret("database/roles/ro", kind="database"))
    assert "expire with their leases" in refusal
    assert "static roles and connections" in get_strategy("dynamic").applies_to(
        make_secret("secret/x", kind="database")
    )
