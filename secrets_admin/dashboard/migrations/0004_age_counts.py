"""Counts behind the age histogram (dashboard.AgeCount), kept by triggers on inventory_secret in
the same transaction as every change to a secret, whatever the path (the ORM, the sync's bulk
statements, raw SQL): a present secret counts +1 on (kind, UTC day of its age's start), and a
change appends -1 on the old (kind, day) and +1 on the new. Rows are only ever inserted, so two
writers never wait on (or deadlock over) one counter row.

PostgreSQL: inserts and deletes are counted once per statement (transition tables, one grouped
INSERT however many rows); updates per row, and only those that move a secret's kind, day or
presence (the WHEN clause, so the status beat's estate-wide UPDATE pays nothing). SQLite (the
embedded mode): row triggers. Existing secrets are counted once here."""

from django.db import migrations, models

PG_DAY = "(COALESCE({t}.last_rotated, {t}.created_at, {t}.discovered_at) AT TIME ZONE 'UTC')::date"
LITE_DAY = "date(COALESCE({t}.last_rotated, {t}.created_at, {t}.discovered_at))"
FILL = "INSERT INTO dashboard_agecount (kind, day, n) SELECT kind, {day}, count(*) FROM inventory_secret WHERE missing_since IS NULL GROUP BY 1, 2"  # noqa: E501

PG_CREATE = f"""
CREATE OR REPLACE FUNCTION dashboard_age_counted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO dashboard_agecount (kind, day, n)
        SELECT kind, {PG_DAY.format(t="age_new")}, count(*) FROM age_new
        WHERE missing_since IS NULL GROUP BY 1, 2;
    ELSE
        INSERT INTO dashboard_agecount (kind, day, n)
        SELECT kind, {PG_DAY.format(t="age_old")}, -count(*) FROM age_old
        WHERE missing_since IS NULL GROUP BY 1, 2;
    END IF;
    RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION dashboard_age_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.missing_since IS NULL THEN
        INSERT INTO dashboard_agecount (kind, day, n) VALUES (OLD.kind, {PG_DAY.format(t="OLD")}, -1);
    END IF;
    IF NEW.missing_since IS NULL THEN
        INSERT INTO dashboard_agecount (kind, day, n) VALUES (NEW.kind, {PG_DAY.format(t="NEW")}, 1);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER dashboard_age_inserted AFTER INSERT ON inventory_secret
    REFERENCING NEW TABLE AS age_new FOR EACH STATEMENT EXECUTE FUNCTION dashboard_age_counted();
CREATE TRIGGER dashboard_age_deleted AFTER DELETE ON inventory_secret
    REFERENCING OLD TABLE AS age_old FOR EACH STATEMENT EXECUTE FUNCTION dashboard_age_counted();
CREATE TRIGGER dashboard_age_updated
    AFTER UPDATE OF kind, last_rotated, created_at, discovered_at, missing_since ON inventory_secret
    FOR EACH ROW WHEN ((OLD.kind, {PG_DAY.format(t="OLD")}, OLD.missing_since IS NULL)
        IS DISTINCT FROM (NEW.kind, {PG_DAY.format(t="NEW")}, NEW.missing_since IS NULL))
    EXECUTE FUNCTION dashboard_age_moved();
{FILL.format(day=PG_DAY.format(t="inventory_secret"))};
"""

PG_DROP = """
DROP TRIGGER IF EXISTS dashboard_age_inserted ON inventory_secret;
DROP TRIGGER IF EXISTS dashboard_age_deleted ON inventory_secret;
DROP TRIGGER IF EXISTS dashboard_age_updated ON inventory_secret;
DROP FUNCTION IF EXISTS dashboard_age_counted();
DROP FUNCTION IF EXISTS dashboard_age_moved();
"""

_OLD, _NEW = LITE_DAY.format(t="OLD"), LITE_DAY.format(t="NEW")
LITE_CREATE = [
    f"""CREATE TRIGGER dashboard_age_inserted AFTER INSERT ON inventory_secret
    WHEN NEW.missing_since IS NULL BEGIN
    INSERT INTO dashboard_agecount (kind, day, n) VALUES (NEW.kind, {_NEW}, 1); END""",
    f"""CREATE TRIGGER dashboard_age_deleted AFTER DELETE ON inventory_secret
    WHEN OLD.missing_since IS NULL BEGIN
    INSERT INTO dashboard_agecount (kind, day, n) VALUES (OLD.kind, {_OLD}, -1); END""",
    f"""CREATE TRIGGER dashboard_age_updated
    AFTER UPDATE OF kind, last_rotated, created_at, discovered_at, missing_since ON inventory_secret
    WHEN OLD.kind IS NOT NEW.kind OR {_OLD} IS NOT {_NEW}
        OR (OLD.missing_since IS NULL) IS NOT (NEW.missing_since IS NULL) BEGIN
    INSERT INTO dashboard_agecount (kind, day, n) SELECT OLD.kind, {_OLD}, -1 WHERE OLD.missing_since IS NULL;
    INSERT INTO dashboard_agecount (kind, day, n) SELECT NEW.kind, {_NEW}, 1 WHERE NEW.missing_since IS NULL;
    END""",
    FILL.format(day=LITE_DAY.format(t="inventory_secret")),
]
LITE_DROP = [f"DROP TRIGGER IF EXISTS dashboard_age_{name}" for name in ("inserted", "deleted", "updated")]


def _run(pg, lite):
    def run(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        statements = [pg] if vendor == "postgresql" else lite if vendor == "sqlite" else []
        with schema_editor.connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("dashboard", "0003_live_indexes"), ("inventory", "0006_search_text")]

    operations = [
        migrations.CreateModel(
            name="AgeCount",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("kind", models.CharField(max_length=20)),
                ("day", models.DateField(null=True)),
                ("n", models.IntegerField()),
            ],
        ),
        migrations.RunPython(_run(PG_CREATE, LITE_CREATE), _run(PG_DROP, LITE_DROP), elidable=False),
    ]
