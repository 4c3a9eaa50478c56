"""On PostgreSQL, triggers keep the ledger append-only for every client, the owner included.

Entries: INSERT only unlinked (sequence NULL, no chain hashes); UPDATE only the sequencer's one
link (sequence, prev_hash, hash, linked_at from empty to set, nothing else changed) or Django's
ON DELETE SET NULL of actor_id; DELETE refused. Checkpoints, anchors and break
acknowledgements: UPDATE and DELETE refused. TRUNCATE refused on all four (a statement trigger:
row triggers never see a TRUNCATE). An owner can still disable triggers; production therefore
runs the console as a role that owns nothing (README, "Two database roles"), and the anchor
outside the database catches what a superuser rewrites. SQLite relies on the ORM refusals.
"""

from django.db import migrations

RECORDS = ("audit_auditcheckpoint", "audit_auditanchor", "audit_breakacknowledgement")
LINK_COLUMNS = "'{sequence,prev_hash,hash,linked_at}'::text[]"

CREATE = f"""
CREATE OR REPLACE FUNCTION audit_entry_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.sequence IS NULL AND NEW.prev_hash = '' AND NEW.hash = '' AND NEW.linked_at IS NULL THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'audit_auditentry: entries are inserted unlinked; only the sequencer links them'
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP = 'UPDATE' THEN
        IF OLD.sequence IS NULL AND OLD.hash = '' AND NEW.sequence IS NOT NULL AND NEW.hash <> ''
           AND NEW.prev_hash <> '' AND NEW.linked_at IS NOT NULL
           AND (to_jsonb(NEW) - {LINK_COLUMNS}) = (to_jsonb(OLD) - {LINK_COLUMNS}) THEN
            RETURN NEW;
        END IF;
        IF OLD.actor_id IS NOT NULL AND NEW.actor_id IS NULL
           AND (to_jsonb(NEW) - 'actor_id') = (to_jsonb(OLD) - 'actor_id') THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit_auditentry is append-only: % refused', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE OR REPLACE FUNCTION audit_record_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$;

DROP TRIGGER IF EXISTS audit_entry_guard ON audit_auditentry;
CREATE TRIGGER audit_entry_guard
    BEFORE INSERT OR UPDATE OR DELETE ON audit_auditentry
    FOR EACH ROW EXECUTE FUNCTION audit_entry_guard();
DROP TRIGGER IF EXISTS audit_no_truncate ON audit_auditentry;
CREATE TRIGGER audit_no_truncate
    BEFORE TRUNCATE ON audit_auditentry
    FOR EACH STATEMENT EXECUTE FUNCTION audit_record_guard();
""" + "".join(
    f"""
DROP TRIGGER IF EXISTS audit_record_guard ON {table};
CREATE TRIGGER audit_record_guard
    BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION audit_record_guard();
DROP TRIGGER IF EXISTS audit_no_truncate ON {table};
CREATE TRIGGER audit_no_truncate
    BEFORE TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION audit_record_guard();
"""
    for table in RECORDS
)

DROP = (
    "".join(
        f"DROP TRIGGER IF EXISTS audit_record_guard ON {t}; DROP TRIGGER IF EXISTS audit_no_truncate ON {t};"
        for t in RECORDS
    )
    + """
DROP TRIGGER IF EXISTS audit_entry_guard ON audit_auditentry;
DROP TRIGGER IF EXISTS audit_no_truncate ON audit_auditentry;
DROP FUNCTION IF EXISTS audit_entry_guard();
DROP FUNCTION IF EXISTS audit_record_guard();
"""
)


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            with schema_editor.connection.cursor() as cursor:
                cursor.execute(sql)  # no params: the "%" in RAISE is not a placeholder

    return run


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_ledger_v2")]
    operations = [migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP), elidable=False)]
