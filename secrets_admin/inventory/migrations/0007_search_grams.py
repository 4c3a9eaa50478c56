"""A second search index for terms of 6+ characters: every 6-character window of search_text.

The trigram index (0006) answers `LIKE '%term%'` by intersecting the posting lists of the term's
trigrams, and GIN reads the rarest one in full. A term such as `key-050000` has only trigrams
that thousands of keys share (`050` is in ~6,000 of a million rows), so that scan grows with the
table: 889 index pages and 28-44 ms at 1M for ten matches. Windows of six characters are rare
enough to pin a key (`050000` is in ten rows at any size): the same search reads 20 pages,
0.2 ms. Search (inventory.filters.search) uses this index when the term has 6+ characters and
no newline, the trigram one otherwise; both are only candidate finders, the per-column
`icontains` decides.

Windows are taken from UPPER(search_text) as Django's icontains compares; those that cross a
column boundary (hold the newline) are left out, so no term spans two columns. The function is
IMMUTABLE (a pure function of its text) and plpgsql: 20% faster than the SQL array forms here.
GIN stores each distinct window once per row, so repeats cost nothing. The index is kept with
fastupdate on and emptied by the status recompute, as the other two (services.status).
"""

from django.db import migrations

GRAMS = r"""
CREATE OR REPLACE FUNCTION inventory_grams(t text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    grams text[] := '{}';
    gram text;
BEGIN
    FOR i IN 1 .. length(t) - 5 LOOP
        gram := substr(t, i, 6);
        IF strpos(gram, E'\n') = 0 THEN
            grams := grams || gram;
        END IF;
    END LOOP;
    RETURN grams;
END
$$
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(GRAMS)
        cursor.execute(
            "CREATE INDEX IF NOT EXISTS secret_search_grams ON inventory_secret "
            "USING gin (inventory_grams(UPPER(search_text)))"
        )


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("DROP INDEX IF EXISTS secret_search_grams")
        cursor.execute("DROP FUNCTION IF EXISTS inventory_grams(text)")


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0006_search_text"),
    ]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
