"""Bench estates for bench/inventory.py: N realistic secrets (3 versions each) written by one
INSERT ... SELECT generate_series per table, so a million rows load in minutes, not hours.

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
    kind,
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
    CASE WHEN kind = 'certificate' THEN now() + (i %% 90) * interval '1 day' END,
    NULL,
    (SELECT id FROM inventory_rotationpolicy p WHERE p.kind = k.kind AND p.is_default),
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


def load(connection, count: int, *, fresh: bool = False) -> bool:
    """Make the database hold exactly the bench estate of `count` secrets. Returns True if it
    was (re)loaded, False if the estate already there was reused."""
    with connection.cursor() as cursor:
        if not fresh and loaded(cursor, count):
            return False
        # CASCADE: rows of later apps (rotation runs, grants' scopes...) point at secrets; this is
        # the bench's own database, so they go too.
        cursor.execute(
            "TRUNCATE inventory_secretversion, inventory_secret, inventory_syncrun RESTART IDENTITY CASCADE"
        )
        cursor.execute(SECRETS, {"mark": MARK, "count": count})
        cursor.execute(VERSIONS)
    with connection.cursor() as cursor:  # what autovacuum does on a live table (visibility map, stats)
        cursor.execute("VACUUM ANALYZE inventory_secret")
        cursor.execute("VACUUM ANALYZE inventory_secretversion")
    return True


def search_term(count: int) -> str:
    """A key-number fragment that matches ten secrets at any size (key-NNNNNN0..9)."""
    return f"key-{count // 2:07d}"[:-1]
