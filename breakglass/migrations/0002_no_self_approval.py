"""Self-approval refused by the database too: a trigger on approvals, so a path around the
services (a shell, a script, a bug) still cannot record the requester as an approver."""

from django.db import migrations

PG_UP = """
CREATE OR REPLACE FUNCTION breakglass_no_self_approval() RETURNS trigger AS $$
BEGIN
    IF NEW.approver_id = (SELECT requester_id FROM breakglass_accessrequest WHERE id = NEW.request_id) THEN
        RAISE EXCEPTION 'breakglass: the requester cannot approve their own request'
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER breakglass_no_self_approval BEFORE INSERT OR UPDATE ON breakglass_approval
    FOR EACH ROW EXECUTE FUNCTION breakglass_no_self_approval();
"""
PG_DOWN = """
DROP TRIGGER IF EXISTS breakglass_no_self_approval ON breakglass_approval;
DROP FUNCTION IF EXISTS breakglass_no_self_approval();
"""
SQLITE_UP = [
    f"""
CREATE TRIGGER breakglass_no_self_approval_{when} BEFORE {when} ON breakglass_approval
FOR EACH ROW WHEN NEW.approver_id = (SELECT requester_id FROM breakglass_accessrequest WHERE id = NEW.request_id)
BEGIN SELECT RAISE(ABORT, 'breakglass: the requester cannot approve their own request'); END;
"""
    for when in ("INSERT", "UPDATE")
]
SQLITE_DOWN = [f"DROP TRIGGER IF EXISTS breakglass_no_self_approval_{when};" for when in ("INSERT", "UPDATE")]


def up(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_UP)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_UP:
            schema_editor.execute(statement)


def down(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_DOWN)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_DOWN:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("breakglass", "0001_initial")]
    operations = [migrations.RunPython(up, down)]
