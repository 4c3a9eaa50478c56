import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction

from secrets_admin.audit import actions, sequencer, services

THING_DONE = actions.register("test.thing.done", "A test did a thing")
THING_UNDONE = actions.register("test.thing.undone", "A test undid a thing")


@pytest.fixture
def make_user(db):
    def make(username="alice", **extra):
        return get_user_model().objects.create_user(username=username, password="x" * 16, **extra)

    return make


def write(count, start=0, *, link=True):
    """Record `count` entries in one transaction (data {"i": start + n}), then link them.
    Returns the entries as the sequencer left them (pending ones when link=False)."""
    from secrets_admin.audit.models import AuditEntry

    with transaction.atomic():
        entries = [services.record(THING_DONE, actor=None, data={"i": start + i}) for i in range(count)]
    if link:
        sequencer.link()
    return list(AuditEntry.objects.filter(pk__in=[e.pk for e in entries]).order_by("id"))


def tamper(sql: str, params=()):
    """Change audit rows as an attacker with direct database (and DDL) rights would: on
    PostgreSQL (superuser) the append-only triggers are bypassed around the statement."""
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if postgres:
            cursor.execute("SET session_replication_role = replica")  # ordinary triggers stop firing
        try:
            cursor.execute(sql, params)
        finally:
            if postgres:
                cursor.execute("SET session_replication_role = DEFAULT")
