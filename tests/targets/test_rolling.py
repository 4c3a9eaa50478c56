"""Rolling against real servers: the password in OpenBao KV v2 or moto, its login on the scram
PostgreSQL target. A fresh login proves each side."""

import boto3
import hvac
import psycopg
import pytest
from psycopg import sql

from secrets_admin.alerts.models import Alert
from secrets_admin.backends import get_backend
from secrets_admin.rotation.services import engine, start_run
from secrets_admin.rotation.strategies import StepContext, get_strategy

pytestmark = pytest.mark.django_db


def versions(secret, openbao, moto) -> int:
    if secret.backend == "vault":
        raw = hvac.Client(url=openbao.url, token=openbao.token)
        meta = raw.secrets.kv.v2.read_secret_metadata(path=secret.path.split("/", 1)[1], mount_point="secret")
        return len(meta["data"]["versions"])
    sm = boto3.client("secretsmanager", endpoint_url=moto.url, region_name="us-east-1")
    return len(sm.describe_secret(SecretId=secret.path)["VersionIdsToStages"])


@pytest.mark.parametrize("backend", ["vault", "aws"])
def test_a_password_rotates_on_its_target_and_the_old_one_is_refused(
    backend, password_secret, rotation_target, openbao, moto
):
    secret, login, old = password_secret(backend)
    before = versions(secret, openbao, moto)
    run = start_run(secret, actor="test", reason="cli")
    assert run.strategy == "rolling"
    assert engine.advance(run.pk)["state"] == "finished"
    run.refresh_from_db()

    store = get_backend(backend)
    new = store.read_current(secret.path)
    assert new != old and versions(secret, openbao, moto) == before + 1
    assert run.new_version_id == store.current_version(secret.path)
    assert rotation_target.target.login_works(login, new), "the stored value logs in"
    assert not rotation_target.target.login_works(login, old)
    assert run.state_data["old_refused"] is True and run.state_data["login"] == login
    assert new not in str(run.state_data) and [s.name for s in run.steps.order_by("pk")] == [
        "create", "set", "test", "finish",
    ]  # fmt: skip


@pytest.mark.parametrize("backend", ["vault", "aws"])
def test_every_step_run_twice_gives_one_new_version_that_the_target_accepts(
    backend, password_secret, rotation_target, openbao, moto
):
    secret, login, old = password_secret(backend)
    before = versions(secret, openbao, moto)
    run = start_run(secret, actor="test", reason="cli")
    ctx = StepContext(run=run, secret=secret, backend=get_backend(backend), token=run.token, state={})
    strategy = get_strategy("rolling")
    for step in ("create", "set", "test", "finish"):
        strategy.step(step)(ctx)
        strategy.step(step)(ctx)  # a crash after the work, before it was recorded
    new = get_backend(backend).read_current(secret.path)
    assert versions(secret, openbao, moto) == before + 1
    assert rotation_target.target.login_works(login, new) and not rotation_target.target.login_works(
        login, old
    )
    assert ctx.state["new_version_id"] == get_backend(backend).current_version(secret.path)


def test_a_target_refusing_the_login_stops_the_run_at_set_and_nothing_is_promoted(
    password_secret, rotation_target, openbao, moto
):
    secret, login, old = password_secret("vault")
    with psycopg.connect(rotation_target.admin_dsn(), autocommit=True) as conn:
        conn.execute(sql.SQL("ALTER ROLE {} NOLOGIN").format(sql.Identifier(login)))
    before = versions(secret, openbao, moto)
    run = start_run(secret, actor="test", reason="cli")
    engine.advance(run.pk)
    run.refresh_from_db()
    assert (run.state, run.step) == ("needs_person", "set") or (run.state, run.step) == ("failed", "set")
    assert "refused" in run.error and old not in run.error
    assert get_backend("vault").read_current(secret.path) == old
    assert versions(secret, openbao, moto) == before, "nothing half-promoted"
    with psycopg.connect(rotation_target.admin_dsn(), autocommit=True) as conn:
        conn.execute(sql.SQL("ALTER ROLE {} LOGIN").format(sql.Identifier(login)))
    assert rotation_target.target.login_works(login, old), "the old credential still works"
    assert Alert.objects.filter(event="rotation.failed").exists()


def test_a_stored_value_the_target_does_not_know_stops_at_set(
    password_secret, rotation_target, openbao, moto
):
    login, _ = rotation_target.login("the-password-on-the-target")
    secret, _, stored = password_secret("aws", password="a-different-stored-value", login=login)
    run = start_run(secret, actor="test", reason="cli")
    engine.advance(run.pk)
    run.refresh_from_db()
    assert run.step == "set" and run.state in ("failed", "needs_person")
    assert "the stored value and the target disagree" in run.error
    assert get_backend("aws").read_current(secret.path) == stored
    assert rotation_target.target.login_works(login, "the-password-on-the-target")


def test_a_password_without_a_target_rotates_as_a_plain_value(password_secret):
    secret, _, old = password_secret("vault", tagged=False)
    run = start_run(secret, actor="test", reason="cli")
    engine.advance(run.pk)
    run.refresh_from_db()
    assert run.state == "finished" and run.state_data["consumers_must_reread"] is True
    assert get_backend("vault").read_current(secret.path) != old


def test_rolling_rotates_passwords_only(make_secret):
    assert "rolling rotates passwords" in get_strategy("rolling").applies_to(
        make_secret("secret/x/api", kind="api_key")
    )
    assert get_strategy("rolling").applies_to(make_secret("secret/x/pw")) is None
