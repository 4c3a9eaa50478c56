"""On PostgreSQL, triggers keep the ledger append-only for every client, the owner included.

Entries: INSERT only unlinked (sequence NULL, no chain hashes); UPDATE only the sequencer's one
link (sequence, prev_hash, hash, linked_at from empty to set, every other column unchanged) or
Django's ON DELETE SET NULL of actor_id (nothing else changed); DELETE refused. Checkpoints,
anchors and break acknowledgements: UPDATE and DELETE refused. TRUNCATE refused on all four (a
statement trigger: row triggers never see a TRUNCATE).

The allowed shapes are WHEN conditions, evaluated by the executor without calling PL/pgSQL, so an
ordinary insert or link costs no function call; the function only runs to refuse. COALESCE makes
a condition that evaluates to NULL count as "not allowed". CONTENT must name every column but
the chain ones (a test compares it with the table). An owner can still disable triggers;
production therefore runs the console as a role that owns nothing (README, "Two database
roles"), and the anchor outside the database catches what a superuser rewrites. SQLite relies on
the ORM refusals.
"""

from django.db import migrations

RECORDS = ("audit_auditcheckpoint", "audit_auditanchor", "audit_breakacknowledgement")
CHAIN = ("sequence", "prev_hash", "hash", "linked_at")
CONTENT = (
    "id", "created_at", "actor_name", "action", "target_type", "target_id", "target_repr",
    "request_id", "ip", "data", "content_hash",
)  # fmt: skip


def _same(columns) -> str:
    return " AND ".join(f"NEW.{c} IS NOT DISTINCT FROM OLD.{c}" for c in columns)


LINK = (
    "OLD.sequence IS NULL AND OLD.hash = '' AND NEW.sequence IS NOT NULL AND NEW.hash <> ''"
    " AND NEW.prev_hash <> '' AND NEW.linked_at IS NOT NULL AND " + _same((*CONTENT, "actor_id"))
)
ACTOR_SET_NULL = "OLD.actor_id IS NOT NULL AND NEW.actor_id IS NULL AND " + _same((*CONTENT, *CHAIN))
LINKED_INSERT = "NEW.sequence IS NOT NULL OR NEW.prev_hash <> '' OR NEW.hash <> '' OR NEW.linked_at IS NOT NULL"

CREATE = f"""
CREATE OR REPLACE FUNCTION audit_refuse() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        RAISE EXCEPTION '%: entries are inserted unlinked; only the sequencer links them', TG_TABLE_NAME
            USING ERRCODE = 'restrict_violation';
    END IF;
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER audit_entry_insert BEFORE INSERT ON audit_auditentry
    FOR EACH ROW WHEN (COALESCE({LINKED_INSERT}, true)) EXECUTE FUNCTION audit_refuse();
CREATE TRIGGER audit_entry_update BEFORE UPDATE ON audit_auditentry
    FOR EACH ROW WHEN (NOT COALESCE(({LINK}) OR ({ACTOR_SET_NULL}), false)) EXECUTE FUNCTION audit_refuse();
CREATE TRIGGER audit_entry_delete BEFORE DELETE ON audit_auditentry
    FOR EACH ROW EXECUTE FUNCTION audit_refuse();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit_auditentry
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse();
""" + "".join(
    f"""
CREATE TRIGGER audit_record_guard BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION audit_refuse();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse();
"""
    for table in RECORDS
)

DROP = "".join(
    f"DROP TRIGGER IF EXISTS audit_record_guard ON {t}; DROP TRIGGER IF EXISTS audit_no_truncate ON {t};"
    for t in RECORDS
) + "".join(
    f"DROP TRIGGER IF EXISTS {name} ON audit_auditentry;"
    for name in ("audit_entry_insert", "audit_entry_update", "audit_entry_delete", "audit_no_truncate")
) + "DROP FUNCTION IF EXISTS audit_refuse();"


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            with schema_editor.connection.cursor() as cursor:
                cursor.execute(sql)  # no params: the "%" in RAISE is not a placeholder

    return run


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_ledger_v2")]
    operations = [migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP), elidable=False)]
