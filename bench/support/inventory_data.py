"""Bench estates for bench/inventory.py: N realistic secrets (3 versions each) written by one
INSERT ... SELECT generate_series per table, in one transaction that drops the tables' secondary
indexes first and builds them again after the rows are in (one sorted build per index instead
of a million scattered inserts into each), with foreign-key triggers off for the load (the rows
are consistent by construction). A million secrets load in about two minutes on this machine.

Every size has the same shape, so a scenario selects the same *kind* of rows at any size: the
unfiltered list, environment+kind+status (a fixed fraction), a search for one secret's key
number fragment (about ten rows at any size), and a tag (`tier=gold`, a third of the rows).
A loaded estate is kept and reused when its size and MARK match (`--fresh` reloads it).
"""

MARK = "bench estate v3"  # in every purpose; change it when the shape below changes

SECRETS = """
INSERT INTO inventory_secret (
    backend, path, name, kind, environment, owner_team, purpose, tags, created_at,
    remote_updated_at, last_rotated, last_accessed, expires_at, next_due, rotation_policy_id,
    rotation, details, status, problem, last_seen, missing_since, discovered_at, source)
SELECT
    (ARRAY['vault', 'aws'])[i %% 2 + 1],
    format('secret/team-%%s/service-%%s/key-%%s', lpad((i %% 50)::text, 2, '0'),
           lpad((i %% 997)::text, 3, '0'), lpad(i::text, 7, '0')),
    'key-' || lpad(i::text, 7, '0'),
    k.kind,
    (ARRAY['development', 'staging', 'production'])[i %% 3 + 1],
    'team-' || lpad((i %% 50)::text, 2, '0'),
    %(mark)s || ': used by service ' || (i %% 997) || ' of team ' || (i %% 50),
    jsonb_build_object(
        'tier', (ARRAY['gold', 'silver', 'bronze'])[i %% 3 + 1], 'cost-center', (i %% 40)::text
    ),
    now() - ((i * 7) %% 120 + 30) * interval '1 day',
    now() - ((i * 7) %% 120) * interval '1 day',
    CASE WHEN i %% 11 = 0 THEN NULL ELSE now() - ((i * 7) %% 120) * interval '1 day' END,
    NULL,
    CASE WHEN k.kind = 'certificate' THEN now() + (i %% 90) * interval '1 day' END,
    NULL,
    p.id,
    '{}'::jsonb, '{}'::jsonb,
    (ARRAY['ok', 'ok', 'ok', 'due_soon', 'overdue', 'needs_attention', 'missing'])[i %% 7 + 1],
    CASE WHEN i %% 7 = 5 THEN 'environment ''prod'' is not one of development|staging|production' ELSE '' END,
    now(),
    CASE WHEN i %% 7 = 6 THEN now() - interval '1 day' END,
    now(), 'sync'
FROM generate_series(0, %(count)s - 1) AS i,
     LATERAL (
         SELECT (ARRAY['api_key', 'password', 'database', 'certificate', 'generic'])[i %% 5 + 1] AS kind
     ) AS k
     LEFT JOIN inventory_rotationpolicy AS p ON p.kind = k.kind AND p.is_default
"""

VERSIONS = """
INSERT INTO inventory_secretversion (secret_id, version_id, stages, state, created_at, created_by, first_seen)
SELECT s.id, v::text, '[]'::jsonb, CASE WHEN v = 3 THEN 'current' ELSE 'previous' END,
       now() - (90 * (3 - v)) * interval '1 day', 'import', now()
FROM inventory_secret s, generate_series(1, 3) AS v
"""


def loaded(cursor, count: int) -> bool:
    cursor.execute("SELECT count(*), bool_and(purpose LIKE %s) FROM inventory_secret", [MARK + ":%"])
    rows, marked = cursor.fetchone()
    return rows == count and bool(marked)


# Indexes that back no constraint (the sort, filter, search and tag indexes): dropped for the
# load and rebuilt from their own definitions after it. Primary and unique keys stay.
SECONDARY = """
SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
FROM pg_index AS i
WHERE i.indrelid IN ('inventory_secret'::regclass, 'inventory_secretversion'::regclass)
  AND NOT EXISTS (SELECT 1 FROM pg_constraint AS c WHERE c.conindid = i.indexrelid)
"""


def load(connection, count: int, *, fresh: bool = False) -> bool:
    """Make the database hold exactly the bench estate of `count` secrets. Returns True if it
    was (re)loaded, False if the estate already there was reused."""
    from django.db import transaction

    with connection.cursor() as cursor:
        if not fresh and loaded(cursor, count):
            # What autovacuum would have done since (it is off on the shared bench server): a
            # migration that rewrote the table leaves no page all-visible, and every count then
            # reads the heap instead of the index. Cheap when there is nothing to do.
            cursor.execute("VACUUM ANALYZE inventory_secret")
            return False
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        # All or nothing: a load that fails leaves the indexes (and the old rows) as they were.
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        # CASCADE: rows of later apps (rotation runs, grants' scopes...) point at secrets; this is
        # the bench's own database, so they go too.
        cursor.execute(
            "TRUNCATE inventory_secretversion, inventory_secret, inventory_syncrun RESTART IDENTITY CASCADE"
        )
        cursor.execute(SECONDARY)
        indexes = cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {name}")
        cursor.execute("SET LOCAL session_replication_role = replica")  # no per-row FK checks
        cursor.execute(SECRETS, {"mark": MARK, "count": count})
        cursor.execute(VERSIONS)
        cursor.execute("SET LOCAL session_replication_role = origin")
        for _name, definition in indexes:
            cursor.execute(definition)
    with connection.cursor() as cursor:  # what autovacuum does on a live table (visibility map, stats)
        cursor.execute("VACUUM ANALYZE inventory_secret")
        cursor.execute("VACUUM ANALYZE inventory_secretversion")
    return True


def search_term(count: int) -> str:
    """A key-number fragment that matches ten secrets at any size (key-NNNNNN0..9)."""
    return f"key-{count // 2:07d}"[:-1]
