"""The embedded rotation target: a PostgreSQL that really checks passwords, and the target
operations the rolling strategy uses (login, change its own password)."""

import os
from pathlib import Path

import psycopg
import pytest

from secrets_admin.backends.base import BackendError
from secrets_admin.backends.postgres_target import get_target, target_of


def test_every_tcp_login_is_checked_with_scram(target_db):
    name, password = target_db.login()
    assert target_db.target.login_works(name, password)
    assert not target_db.target.login_works(name, password + "x")
    assert not target_db.target.login_works("nobody_here", password)
    with psycopg.connect(target_db.admin_dsn()) as conn:
        assert conn.execute("SHOW password_encryption").fetchone()[0] == "scram-sha-256"
        rules = conn.execute("SELECT DISTINCT auth_method FROM pg_hba_file_rules").fetchall()
        stored = conn.execute("SELECT rolpassword FROM pg_authid WHERE rolname = %s", [name]).fetchone()[0]
    assert {rule[0] for rule in rules} == {"scram-sha-256"}, "no rule trusts anyone"
    assert stored.startswith("SCRAM-SHA-256$") and password not in stored


def test_it_listens_on_loopback_tcp_only_and_never_as_root(target_db):
    with psycopg.connect(target_db.admin_dsn()) as conn:
        assert conn.execute("SHOW listen_addresses").fetchone()[0] == "127.0.0.1"
        assert conn.execute("SHOW unix_socket_directories").fetchone()[0] == ""
        pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        # Read while connected: the backend process ends with its connection.
        uid = int(Path(f"/proc/{pid}/status").read_text().split("Uid:")[1].split()[0])
    assert uid != 0, "PostgreSQL refuses root; we run it as another user"
    if os.geteuid() != 0:
        assert uid == os.geteuid()


def test_a_login_changes_its_own_password_and_the_old_one_is_refused(target_db):
    name, old = target_db.login()
    target_db.target.change_own_password(name, old, "n3w-Pass'word\\with quotes")
    assert target_db.target.login_works(name, "n3w-Pass'word\\with quotes")
    assert not target_db.target.login_works(name, old)


def test_a_refused_login_is_a_permanent_error_that_carries_no_password(target_db):
    name, _ = target_db.login()
    with pytest.raises(BackendError) as caught:
        target_db.target.change_own_password(name, "Wrong-Canary-4242", "New-Canary-5151")
    assert caught.value.permanent and caught.value.reason == "login refused"
    text = f"{caught.value} {caught.value!r} {caught.value.__cause__!r} {caught.value.__context__!r}"
    assert "Canary" not in text


def test_an_unreachable_target_is_a_temporary_error(target_db):
    from dataclasses import replace

    from console.stack.servers import free_port

    gone = replace(target_db.target, port=free_port())
    with pytest.raises(BackendError) as caught:
        gone.login_works("anyone", "whatever")
    assert not caught.value.permanent and caught.value.reason == "unreachable"


def test_secrets_name_their_target_by_tags(rotation_target):
    target, login = target_of({"target": "test-target", "target_login": "orders_app"})
    assert (target.port, target.database, login) == (
        rotation_target.target.port,
        "candlefish_target",
        "orders_app",
    )
    assert target_of({"owner": "payments"}) is None
    with pytest.raises(BackendError, match="no target_login tag"):
        target_of({"target": "test-target"})
    with pytest.raises(BackendError, match="no rotation target named") as caught:
        get_target("elsewhere")
    assert caught.value.permanent


@pytest.mark.skipif(os.geteuid() != 0, reason="only root hands postgres to another user")
def test_binaries_a_folder_only_root_may_enter_are_copied_where_postgres_can_start_them(monkeypatch):
    """A clone in `mktemp -d` (0700) holds the venv: the postgres user could not start initdb."""
    import subprocess

    from console.stack import pg_target

    monkeypatch.setattr(pg_target, "_reachable_by_others", lambda path: False)
    copied = pg_target.binaries()
    assert copied.parent.parent.parent.name.startswith("candlefish-pginstall-") and copied.name == "bin"
    assert all(parent.stat().st_mode & 0o001 for parent in copied.resolve().parents)
    version = subprocess.run(
        [str(copied / "initdb"), "--version"], user=pg_target._run_as(), capture_output=True, text=True
    )
    assert version.returncode == 0 and "initdb (PostgreSQL)" in version.stdout, version.stderr
