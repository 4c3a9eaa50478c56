"""Indexes for the inventory's search and tag filter on PostgreSQL.

Search is `UPPER(column) LIKE UPPER('%word%')` (Django's icontains) over path, name, owner team
and purpose: a trigram GIN index per column on exactly that expression (pg_trgm) finds a word
without reading the table. The tag filter is jsonb `?` / `@>`: a GIN index on `tags`.

pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it. If it cannot
be created (an older server, no CREATE right), the trigram indexes are left out with a notice
and search still works, by reading the table. SQLite gets none of these (it has no GIN).
"""

from django.db import migrations, transaction

SEARCHED = ("path", "name", "owner_team", "purpose")


def create(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("CREATE INDEX IF NOT EXISTS secret_tags_gin ON inventory_secret USING gin (tags)")
        try:
            with transaction.atomic(using=connection.alias):  # a savepoint: a refusal leaves the rest
                cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except Exception as exc:  # noqa: BLE001 - any refusal means: no trigram indexes
            print(f"\n  inventory 0005: pg_trgm not available ({type(exc).__name__}); search reads the table")
            return
        for column in SEARCHED:
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS secret_{column}_trgm ON inventory_secret "
                f"USING gin ((UPPER({column}::text)) gin_trgm_ops)"
            )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for column in SEARCHED:
            cursor.execute(f"DROP INDEX IF EXISTS secret_{column}_trgm")
        cursor.execute("DROP INDEX IF EXISTS secret_tags_gin")


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0004_sync_single_flight"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
