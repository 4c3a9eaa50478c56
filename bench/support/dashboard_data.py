"""Bench estates for bench/dashboard.py, all in one database per size, loaded with SQL (INSERT ...
SELECT generate_series, triggers off for the ledger), never the ORM:

- bench/support/inventory_data's estate of `size` secrets (the inventory bench's shape);
- size/2 rotation runs ended over 90 days (3 % failed): 50k at 100k;
- size/10 ended grants with their requests: 10k at 100k;
- size*10 audit entries over 90 days: 1M at 100k. Sequenced and marked linked with stand-in
  hashes (md5, not a chain: the dashboard's audit tile reads the recorded verifications, anchors
  and the unlinked-entry index, never the entries; bench/audit.py measures real chains);
- size*10 hourly rollup rows of OpenBao requests over 100 days, 10 requests a row on average:
  size*100 requests, 10M at 100k (bench/usage.py's shape), with each path's last read.

A loaded estate is kept and reused when every table holds what MARK says (`--fresh` reloads)."""

MARK = "bench dashboard v2"

RUNS = """
INSERT INTO rotation_rotationrun (secret_id, strategy, state, step, token, attempt, max_attempts,
    lease_owner, state_data, new_version_id, actor_name, reason, created_at, started_at, finished_at,
    updated_at, error)
SELECT s.id, 'rolling', CASE WHEN i %% 33 = 0 THEN 'failed' ELSE 'finished' END,
       CASE WHEN i %% 33 = 0 THEN 'test' ELSE 'done' END, md5(i::text || %(mark)s), 0, 5, '',
       '{}'::jsonb, '', %(mark)s, 'schedule', now() - (i %% 90) * interval '1 day' - interval '1 minute',
       now() - (i %% 90) * interval '1 day' - interval '1 minute', now() - (i %% 90) * interval '1 day',
       now() - (i %% 90) * interval '1 day', CASE WHEN i %% 33 = 0 THEN 'bench failure' ELSE '' END
FROM generate_series(1, %(runs)s) AS i
JOIN inventory_secret s ON s.id = (i * 2) %% %(count)s + 1
"""

REQUESTS = """
INSERT INTO breakglass_accessrequest (kind, requester_id, requester_name, reason, ticket, scope,
    duration_seconds, groups, record_session, status, request_hash, revision, created_at,
    pending_until, approved_at, decided_at, deny_note)
SELECT 'standard', %(who)s, 'bench-requester', %(mark)s, '', '[]'::jsonb, 3600, '["security-team"]',
       true, 'ended', repeat('0', 64), 1, now() - i * interval '1 hour', now(), now(), now(), ''
FROM generate_series(1, %(grants)s) AS i
"""

GRANTS = """
INSERT INTO breakglass_grant (request_id, backend, state, policy_name, accessor, sealed_token,
    expires_at, ended_by_name, end_reason, error)
SELECT id, 'vault', 'ended', 'bench', '', '', now(), '', '', '' FROM breakglass_accessrequest
"""

AUDIT = """
INSERT INTO audit_auditentry (id, sequence, created_at, actor_name, action, target_type, target_id,
    target_repr, request_id, ip, data, content_hash, prev_hash, hash, linked_at)
SELECT i, i, now() - interval '90 days' + i * (interval '90 days' / %(entries)s), 'user' || (i %% 50),
       (ARRAY['auth.login.succeeded', 'inventory.secret.updated', 'breakglass.approved',
              'rotation.run.finished'])[i %% 4 + 1],
       'inventory.secret', (i %% 5000)::text, 'secret/app' || (i %% 5000), md5(i::text), '10.0.0.1',
       jsonb_build_object('i', i, 'note', %(mark)s), md5('c' || i), md5('p' || i), md5('h' || i),
       now() - interval '90 days' + i * (interval '90 days' / %(entries)s)
FROM generate_series(1, %(entries)s) AS i
"""

# Unique keys: (hour, path) repeats only every lcm(2400, secrets) rows; the identity's suffix
# separates those repeats (bench/usage.py's rows).
ROLLUP = """
INSERT INTO usage_hourlyaccess (hour, path, secret_id, identity, entity, operation, "count", demo)
SELECT date_trunc('hour', now()) - (i %% 2400) * interval '1 hour', s.path, s.id,
       'svc-' || (i %% 40) || '-' || (i / 240000), '',
       CASE WHEN i %% 10 = 0 THEN 'list' ELSE 'read' END, 1 + (i %% 19), false
FROM generate_series(1, %(rows)s) AS i
JOIN inventory_secret s ON s.id = %(first)s + ((i::bigint * 7919) %% %(count)s)
ON CONFLICT DO NOTHING
"""

# The hours summed per UTC day, as secrets_admin.usage.services.daily.rebuild writes them.
DAILY = """
INSERT INTO usage_dailyaccess (day, path, secret_id, identity, entity, operation, "count", last_hour, demo)
SELECT (hour AT TIME ZONE 'UTC')::date, path, max(secret_id), identity, entity, operation, sum("count"),
       max(hour), demo
FROM usage_hourlyaccess GROUP BY 1, path, identity, entity, operation, demo
"""


def expected(size: int) -> dict:
    return {
        "runs": size // 2,
        "grants": size // 10,
        "audit_entries": size * 10,
        "rollup_rows": size * 10,
    }


def counts(cursor) -> dict:
    cursor.execute("SELECT count(*) FROM rotation_rotationrun WHERE actor_name = %s", [MARK])
    runs = cursor.fetchone()[0]
    cursor.execute("SELECT count(*) FROM breakglass_grant")
    grants = cursor.fetchone()[0]
    cursor.execute("SELECT count(*) FROM audit_auditentry")
    entries = cursor.fetchone()[0]
    cursor.execute('SELECT count(*), coalesce(sum("count"), 0) FROM usage_hourlyaccess')
    rows, requests = cursor.fetchone()
    return {
        "runs": runs,
        "grants": grants,
        "audit_entries": entries,
        "rollup_rows": rows,
        "requests": int(requests),
    }


def _requester(cursor) -> int:
    cursor.execute("SELECT id FROM auth_user WHERE username = 'bench-requester'")
    found = cursor.fetchone()
    if found is None:
        cursor.execute(
            "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, "
            "is_staff, is_active, date_joined) VALUES ('!', false, 'bench-requester', '', '', '', "
            "false, true, now()) RETURNING id"
        )
        found = cursor.fetchone()
    return found[0]


def load(connection, size: int, *, reloaded: bool) -> dict:
    """Fill the history tables beside the estate (already loaded) unless they hold it already.
    Returns the counts as loaded (requests: the rollup's sum)."""
    with connection.cursor() as cursor:
        have = counts(cursor)
    want = expected(size)
    if reloaded or any(have[k] != v for k, v in want.items()):
        _fill(connection, size, want)
    with connection.cursor() as cursor:  # what autovacuum does on a live table (visibility map, stats)
        for table in TABLES:
            cursor.execute(f"VACUUM ANALYZE {table}")
        return counts(cursor)


TABLES = (
    "inventory_secret",  # the status beat's UPDATE (bench due dates) left the visibility map unset
    "rotation_rotationrun",
    "breakglass_grant",
    "audit_auditentry",
    "usage_hourlyaccess",
    "usage_dailyaccess",
    "usage_lastread",
)


def _fill(connection, size: int, want: dict) -> None:
    from django.db import transaction

    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")  # the ledger's triggers off
        cursor.execute(
            "TRUNCATE rotation_rotationrun, breakglass_grant, breakglass_accessrequest, audit_auditentry,"
            " usage_hourlyaccess, usage_dailyaccess, usage_lastread CASCADE"
        )
        cursor.execute(RUNS, {"mark": MARK, "runs": want["runs"], "count": size})
        cursor.execute(REQUESTS, {"who": _requester(cursor), "mark": MARK, "grants": want["grants"]})
        cursor.execute(GRANTS)
        cursor.execute(AUDIT, {"mark": MARK, "entries": want["audit_entries"]})
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('audit_auditentry', 'id'), %s)", [want["audit_entries"]]
        )
        cursor.execute("SELECT min(id), count(*) FROM inventory_secret")
        first, count = cursor.fetchone()
        cursor.execute(ROLLUP, {"rows": want["rollup_rows"], "first": first, "count": count})
        cursor.execute(
            "INSERT INTO usage_lastread (path, last_read_at) SELECT path, max(hour) FROM usage_hourlyaccess"
            " WHERE operation = 'read' GROUP BY path"
        )
        cursor.execute(DAILY)  # the daily rollup the ingest keeps beside the hours
