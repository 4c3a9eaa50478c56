"""Two PostgreSQL roles in production: the migration role owns the tables, the console runs as a
role that owns nothing.

Only a table's owner (or a superuser) can ALTER it, DISABLE TRIGGER on it or drop it, so the
runtime role cannot switch the ledger's triggers off. It gets plain read/write on the console's
tables, but on the ledger only what the design needs: SELECT and INSERT on entries, plus UPDATE
of the columns the sequencer sets once and the actor id Django nulls when a user is deleted (the
triggers still check that each update is exactly that); SELECT and INSERT on checkpoints,
anchors and break acknowledgements; no TRUNCATE anywhere; read-only migration history.

`migrate`, run as the owning role with DATABASE_RUNTIME_ROLE set, calls grant_runtime_role()
after every migration (post_migrate), so new tables are covered as they appear.
"""

from django.db import connections

LEDGER = ("audit_auditentry", "audit_auditcheckpoint", "audit_auditanchor", "audit_breakacknowledgement")
LINK_COLUMNS = ("sequence", "prev_hash", "hash", "linked_at", "actor_id")


def grant_runtime_role(role: str, *, alias: str = "default") -> None:
    """Give `role` exactly the console's runtime rights in the current schema (idempotent)."""
    from psycopg import sql

    name = sql.Identifier(role)
    statements = [
        sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(name),
        sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}").format(name),
        sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}").format(name),
        sql.SQL("REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA public FROM {}").format(name),
        sql.SQL("REVOKE INSERT, UPDATE, DELETE ON django_migrations FROM {}").format(name),
        *(sql.SQL("REVOKE UPDATE, DELETE ON {} FROM {}").format(sql.Identifier(t), name) for t in LEDGER),
        sql.SQL("GRANT UPDATE ({}) ON audit_auditentry TO {}").format(
            sql.SQL(", ").join(map(sql.Identifier, LINK_COLUMNS)), name
        ),
    ]
    connection = connections[alias]
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement.as_string(cursor.cursor))


def on_post_migrate(sender, using="default", **kwargs):
    from django.conf import settings

    role = settings.DATABASE_RUNTIME_ROLE
    if role and connections[using].vendor == "postgresql":
        grant_runtime_role(role, alias=using)
