import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from secrets_admin.audit import actions

THING_DONE = actions.register("test.thing.done", "A test did a thing")
THING_UNDONE = actions.register("test.thing.undone", "A test undid a thing")


@pytest.fixture
def make_user(db):
    def make(username="alice", **extra):
        return get_user_model().objects.create_user(username=username, password="x" * 16, **extra)

    return make


def tamper(sql: str, params=()):
    """Change audit rows as an attacker with direct database (and DDL) rights would: on
    PostgreSQL (superuser) the append-only trigger is bypassed around the statement."""
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if postgres:
            cursor.execute("SET session_replication_role = replica")  # ordinary triggers stop firing
        try:
            cursor.execute(sql, params)
        finally:
            if postgres:
                cursor.execute("SET session_replication_role = DEFAULT")
