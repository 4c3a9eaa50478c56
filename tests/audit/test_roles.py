"""PostgreSQL only: the production runtime role writes and links entries, and cannot disable the
ledger's triggers, truncate it, or change what it wrote. (Everything here, the role included,
is rolled back with the test's transaction.)"""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from django.db import DatabaseError, connection, transaction

from secrets_admin.audit import sequencer
from secrets_admin.audit.db_roles import grant_runtime_role
from secrets_admin.audit.models import AuditEntry
from secrets_admin.audit.verification import verify
from tests.audit.conftest import write
from tests.markers import requires_postgres

pytestmark = [requires_postgres, pytest.mark.postgres]
ROOT = Path(__file__).resolve().parents[2]

REFUSED = [
    "ALTER TABLE audit_auditentry DISABLE TRIGGER audit_entry_update",
    "ALTER TABLE audit_auditentry DISABLE TRIGGER ALL",
    "ALTER TABLE audit_auditcheckpoint DISABLE TRIGGER audit_record_guard",
    "DROP TRIGGER audit_entry_update ON audit_auditentry",
    "TRUNCATE audit_auditentry",
    "TRUNCATE audit_auditanchor",
    "UPDATE audit_auditentry SET action = 'x.y'",
    "UPDATE audit_auditentry SET data = '{}'",
    "DELETE FROM audit_auditentry",
    "UPDATE audit_auditcheckpoint SET ok = true",
    "DELETE FROM audit_breakacknowledgement",
    "SET session_replication_role = replica",
    "DROP TABLE audit_auditentry",
    "DELETE FROM django_migrations",
]


@pytest.fixture
def runtime_role(db):
    """A fresh role with the runtime grants, the session switched to it (SET LOCAL ROLE)."""
    name = f"cf_runtime_{uuid.uuid4().hex[:8]}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE ROLE "{name}" NOLOGIN')
    grant_runtime_role(name)
    with connection.cursor() as cursor:
        cursor.execute(f'SET LOCAL ROLE "{name}"')
        cursor.execute("SELECT current_user")
        assert cursor.fetchone()[0] == name
    return name


def refused(statement: str) -> bool:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    except DatabaseError as exc:
        return "permission denied" in str(exc) or "must be owner" in str(exc)
    return False


@pytest.mark.parametrize("statement", REFUSED)
def test_the_runtime_role_cannot_touch_the_ledger_beyond_insert_and_link(runtime_role, statement):
    write(3)  # the runtime role writes entries and the sequencer links them
    assert refused(statement), statement
    assert AuditEntry.objects.linked().count() == 3


def test_the_runtime_role_writes_links_verifies_and_anchors(runtime_role):
    write(5, link=False)
    assert sequencer.link() == 5
    outcome = verify(full=True)  # inserts a checkpoint and an anchor row
    assert (outcome.ok, outcome.entries, outcome.extra.get("anchored")) == (True, 5, True)


def test_the_compose_roles_script_and_migrate_set_up_an_owner_and_a_runtime_role(tmp_path):
    """deploy/postgres/roles.sh (as the postgres image runs it), then `migrate` as the owner with
    DATABASE_RUNTIME_ROLE: the owner owns every table; the runtime role writes and links the
    ledger, and cannot disable its triggers or truncate it. Uniquely named roles and database on
    the machine's cluster, dropped at the end."""
    suffix = uuid.uuid4().hex[:8]
    db, owner, runtime = f"cf_deploy_{suffix}", f"cf_owner_{suffix}", f"cf_app_{suffix}"
    host = connection.settings_dict["HOST"] or "127.0.0.1"
    port = str(connection.settings_dict["PORT"] or 5432)
    superuser = connection.settings_dict["USER"]
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "database_owner_password").write_text("owner-password-1\n")
    (secrets / "database_password").write_text("runtime-password-2\n")
    admin = psycopg.connect(f"postgres://{superuser}@{host}:{port}/postgres", autocommit=True)
    admin.execute(f'CREATE DATABASE "{db}"')
    try:
        env = {**os.environ, "PGHOST": host, "PGPORT": port, "POSTGRES_USER": superuser, "POSTGRES_DB": db}
        env.update(SECRETS_DIR=str(secrets), OWNER_ROLE=owner, RUNTIME_ROLE=runtime)
        result = subprocess.run(
            ["bash", str(ROOT / "deploy/postgres/roles.sh")], env=env, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr

        django = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "AUDIT_"))}
        django.update(DATABASE_RUNTIME_ROLE=runtime, AUDIT_ANCHOR="off", LOG_LEVEL="WARNING")
        django["DATABASE_URL"] = f"postgres://{owner}:owner-password-1@{host}:{port}/{db}"
        migrate = subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v0"],
            cwd=ROOT,
            env=django,
            capture_output=True,
            text=True,
        )
        assert migrate.returncode == 0, migrate.stderr
        with psycopg.connect(f"postgres://{superuser}@{host}:{port}/{db}") as check:
            owners = {
                row[0]
                for row in check.execute("SELECT tableowner FROM pg_tables WHERE schemaname = 'public'")
            }
        assert owners == {owner}

        django["DATABASE_URL"] = f"postgres://{runtime}:runtime-password-2@{host}:{port}/{db}"
        script = (
            "from django.db import transaction\n"
            "from secrets_admin.audit import actions, sequencer, services, verification\n"
            "with transaction.atomic():\n"
            "    services.record(actions.EXPORTED, actor='deploy', data={'format': 'csv', 'filter': {}})\n"
            "sequencer.link()\n"  # (the writer may have linked it already, after its commit)
            "assert verification.verify(full=True).ok\n"
        )
        run = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", script],
            cwd=ROOT,
            env=django,
            capture_output=True,
            text=True,
        )
        assert run.returncode == 0, run.stderr
        with psycopg.connect(
            f"postgres://{runtime}:runtime-password-2@{host}:{port}/{db}", autocommit=True
        ) as app:
            assert app.execute("SELECT count(*) FROM audit_auditentry WHERE sequence = 1").fetchone() == (1,)
            for statement in (
                "ALTER TABLE audit_auditentry DISABLE TRIGGER ALL",
                "TRUNCATE audit_auditentry",
                "UPDATE audit_auditentry SET actor_name = 'mallory'",
            ):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    app.execute(statement)
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        admin.execute(f'DROP ROLE IF EXISTS "{runtime}"')
        admin.execute(f'DROP ROLE IF EXISTS "{owner}"')
        admin.close()
