"""PostgreSQL only: the production runtime role writes and links entries, and cannot disable the
ledger's triggers, truncate it, or change what it wrote. (Everything here, the role included,
is rolled back with the test's transaction.)"""

import uuid

import pytest
from django.db import DatabaseError, connection, transaction

from secrets_admin.audit import sequencer
from secrets_admin.audit.db_roles import grant_runtime_role
from secrets_admin.audit.models import AuditEntry
from secrets_admin.audit.verification import verify
from tests.audit.conftest import write
from tests.markers import requires_postgres

pytestmark = [requires_postgres, pytest.mark.postgres]

REFUSED = [
    "ALTER TABLE audit_auditentry DISABLE TRIGGER audit_entry_guard",
    "ALTER TABLE audit_auditentry DISABLE TRIGGER ALL",
    "ALTER TABLE audit_auditcheckpoint DISABLE TRIGGER audit_record_guard",
    "DROP TRIGGER audit_entry_guard ON audit_auditentry",
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
