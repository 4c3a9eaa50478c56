"""One search column and one trigram index instead of four.

Search reads `search_text` (path, name, owner team and purpose, newline-separated, a stored
generated column) through one trigram GIN index on UPPER(search_text): one index scan per
query where the four per-column indexes of 0005 cost four, two of them (path and name) over the
same long posting lists. The per-column indexes go: every row the status recompute rewrites
paid an entry in each of them.

Both GIN indexes keep fastupdate on: a new row's hundred-odd trigrams go to the index's pending
list, several times cheaper than inserting them one by one (1.8 s against 0.6 s of server CPU for
the 1,335 statuses a day changes at 100k). The status recompute empties the lists after it writes
(inventory.services.status.flush_search_indexes): left alone, they grow to gin_pending_list_limit,
every search reads them in full, and whichever writer crosses the limit merges 4 MB of entries
in the foreground: the likely cause of a beat run that took 14.6 s instead of 0.3 s (its
100k bench database had pending lists within a few pages of the limit).
"""

import django.db.models.functions.text
from django.db import migrations, models

OLD_SEARCHED = ("path", "name", "owner_team", "purpose")


def _has_trigrams(cursor) -> bool:
    cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
    return cursor.fetchone() is not None


def forward(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for column in OLD_SEARCHED:
            cursor.execute(f"DROP INDEX IF EXISTS secret_{column}_trgm")
        if not _has_trigrams(cursor):  # 0005 said so already: search reads the table
            return
        cursor.execute(
            "CREATE INDEX IF NOT EXISTS secret_search_trgm ON inventory_secret "
            "USING gin ((UPPER(search_text)) gin_trgm_ops)"
        )


def backward(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX IF EXISTS secret_search_trgm")
        if _has_trigrams(cursor):
            for column in OLD_SEARCHED:
                cursor.execute(
                    f"CREATE INDEX IF NOT EXISTS secret_{column}_trgm ON inventory_secret "
                    f"USING gin ((UPPER({column}::text)) gin_trgm_ops)"
                )


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0005_search_and_tag_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="secret",
            name="search_text",
            field=models.GeneratedField(
                db_persist=True,
                expression=django.db.models.functions.text.Concat(
                    "path",
                    models.Value("\n"),
                    "name",
                    models.Value("\n"),
                    "owner_team",
                    models.Value("\n"),
                    "purpose",
                    output_field=models.TextField(),
                ),
                output_field=models.TextField(),
            ),
        ),
        migrations.RunPython(forward, backward, elidable=False),
    ]
