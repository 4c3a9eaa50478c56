"""Benchmark: the dashboard core's figures (every headline tile and chart service) at 1k and 100k
secrets on PostgreSQL, against a baseline that computes the same headline numbers the naive way
(reading every secret and run into Python) in the same run.

    .venv/bin/python bench/dashboard.py                       (or: make bench; sizes 1k,100k)
    .venv/bin/python bench/dashboard.py --sizes 1000,20000 --rounds 20   (quicker)

Databases: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/candlefish_bench_dashboard)
+ "_<size>" per size, created and migrated when missing. Each holds bench/support/inventory_data's
estate of <size> secrets (the inventory bench's shape), plus <size>/2 rotation runs ended over 90
days (3 % failed) and <size>/10 ended grants, loaded in SQL and kept between runs (`--fresh`
reloads). A router sends the ORM's queries to the size being measured; sizes alternate round by
round, so both see the same machine load. The audit tile reads verifications, anchors and the
unlinked-entry index, not the entries, so the ledger is left empty here (bench/audit.py measures
the ledger at 1M entries).

Goals (issue 12): each figure's SQL (its queries' time, as Django's debug cursor records it)
p95 <= 10 ms at the largest size; all headline figures together
(headline_numbers()) p95 <= 200 ms; queries per figure identical at every size; and the naive
baseline slower than ours at the largest size. Last line: RESULT {json}.
"""

import argparse
import contextlib
import contextvars
import json
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench" / "support"))
URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/candlefish_bench_dashboard")
GOALS = {"figure_p95_ms": 10.0, "headline_p95_ms": 200.0}
ALIAS = contextvars.ContextVar("bench_alias", default=None)
MARK = "bench dashboard v1"

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


def options(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=os.environ.get("BENCH_SIZES", "1000,100000"))
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", "50")))
    parser.add_argument("--fresh", action="store_true", help="reload every estate")
    args = parser.parse_args(argv)
    args.sizes = sorted(int(size) for size in args.sizes.split(","))
    return args


def ensure_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        name = parts.path.lstrip("/")
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


class BySize:
    def db_for_read(self, model, **hints):
        return ALIAS.get()

    db_for_write = db_for_read

    def allow_relation(self, *args, **hints):
        return True

    def allow_migrate(self, *args, **hints):
        return True


@contextlib.contextmanager
def using(alias):
    token = ALIAS.set(alias)
    try:
        yield
    finally:
        ALIAS.reset(token)


def setup_django(sizes) -> None:
    os.environ["DATABASE_URL"] = URL
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
    for url in [URL] + [f"{URL}_{size}" for size in sizes]:
        ensure_database(url)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections, router

    router.routers.insert(0, BySize())
    call_command("migrate", verbosity=0)  # the ledger's lag probe reads "default" by name
    for size in sizes:
        alias = f"s{size}"
        config = {**connections.settings["default"], "NAME": f"{urlsplit(URL).path.lstrip('/')}_{size}"}
        settings.DATABASES[alias] = connections.settings[alias] = config
        with using(alias):
            call_command("migrate", database=alias, verbosity=0)


def load(size: int, fresh: bool) -> None:
    import inventory_data
    from django.db import connections

    connection = connections[f"s{size}"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM rotation_rotationrun WHERE actor_name = %s", [MARK])
        runs_there = cursor.fetchone()[0]
    reloaded = inventory_data.load(connection, size, fresh=fresh)
    if not reloaded and runs_there == size // 2:
        return
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE rotation_rotationrun, breakglass_grant, breakglass_accessrequest CASCADE")
        cursor.execute(RUNS, {"mark": MARK, "runs": size // 2, "count": size})
        cursor.execute("SELECT id FROM auth_user WHERE username = 'bench-requester'")
        found = cursor.fetchone()
        if found is None:
            cursor.execute(
                "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, "
                "is_staff, is_active, date_joined) VALUES ('!', false, 'bench-requester', '', '', '', "
                "false, true, now()) RETURNING id"
            )
            found = cursor.fetchone()
        cursor.execute(
            "INSERT INTO breakglass_accessrequest (kind, requester_id, requester_name, reason, ticket, scope,"
            " duration_seconds, groups, record_session, status, request_hash, revision, created_at,"
            " pending_until, approved_at, decided_at, deny_note)"
            " SELECT 'standard', %s, 'bench-requester', %s, '', '[]'::jsonb, 3600, '[\"security-team\"]',"
            " true, 'ended', repeat('0', 64), 1, now() - i * interval '1 hour', now(), now(), now(), ''"
            " FROM generate_series(1, %s) AS i",
            [found[0], MARK, size // 10],
        )
        cursor.execute(
            "INSERT INTO breakglass_grant (request_id, backend, state, policy_name, accessor, sealed_token,"
            " expires_at, ended_by_name, end_reason, error)"
            " SELECT id, 'vault', 'ended', 'bench', '', '', now(), '', '', '' FROM breakglass_accessrequest"
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE rotation_rotationrun")
        cursor.execute("VACUUM ANALYZE breakglass_grant")


def figures() -> dict:
    from django.utils import timezone

    from secrets_admin.dashboard.services import charts, headline

    now = timezone.now()
    return {
        "secrets": headline.secrets_by_backend_and_environment,
        "rotations_due": headline.rotations_due,
        "success": lambda: headline.success_rates(now),
        "access": lambda: headline.access(now),
        "mfa": headline.mfa_coverage,
        "audit": lambda: headline.audit_chain(now),
        "backends": headline.backends,
        "age": charts.age_distribution,
        "trend": charts.trend,
        "failures": charts.current_failures,
        "calendar": charts.calendar_next_30_days,
        "headline_numbers": headline.headline_numbers,
    }


def naive_headline() -> dict:
    """The baseline: the same secrets, due and success figures from every row, in Python."""
    from datetime import timedelta

    from django.utils import timezone

    from secrets_admin.inventory.models import Secret
    from secrets_admin.rotation.models import RotationRun

    now = timezone.now()
    cells, due = {}, {"overdue": 0, "due_soon": 0}
    for backend, environment, status in Secret.objects.values_list(
        "backend", "environment", "status"
    ).iterator():
        cells[(backend, environment)] = cells.get((backend, environment), 0) + 1
        if status in due:
            due[status] += 1
    windows = {d: [0, 0] for d in (7, 30, 90)}
    for state, finished in RotationRun.objects.values_list("state", "finished_at").iterator():
        for days, counts in windows.items():
            if (
                finished
                and state in ("finished", "failed", "needs_person")
                and finished >= now - timedelta(days=days)
            ):
                counts[1] += 1
                counts[0] += state == "finished"
    return {"cells": cells, "due": due, "windows": windows}


def measure(fn, alias: str) -> tuple[float, float, int]:
    """(wall ms, ms spent in SQL as the debug cursor timed it, queries) of one call."""
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    with using(alias), CaptureQueriesContext(connections[alias]) as queries:
        started = time.perf_counter()
        fn()
        elapsed = (time.perf_counter() - started) * 1000
    sql = sum(float(q["time"]) for q in queries.captured_queries) * 1000
    return elapsed, sql, len(queries)


def p95(values) -> float:
    return statistics.quantiles(values, n=20)[18] if len(values) >= 20 else max(values)


def main(argv=None) -> int:
    args = options(argv)
    setup_django(args.sizes)
    for size in args.sizes:
        load(size, args.fresh)
    work = {**figures(), "naive_headline": naive_headline}
    wall = {(name, size): [] for name in work for size in args.sizes}
    sql = {(name, size): [] for name in work for size in args.sizes}
    queries = {name: {} for name in work}
    for _ in range(args.rounds):
        for name, fn in work.items():
            for size in args.sizes:  # alternate sizes: the same machine load for both
                elapsed, in_sql, count = measure(fn, f"s{size}")
                wall[(name, size)].append(elapsed)
                sql[(name, size)].append(in_sql)
                queries[name].setdefault(size, set()).add(count)
    largest = args.sizes[-1]
    report = {
        name: {
            size: (
                round(p95(wall[(name, size)]), 2),
                round(p95(sql[(name, size)]), 2),
                max(queries[name][size]),
            )
            for size in args.sizes
        }
        for name in work
    }
    for name, by_size in report.items():
        cells = [f"{size}: p95 {w:8.2f} ms (SQL {q:7.2f}), {n} q" for size, (w, q, n) in by_size.items()]
        print(f"{name:18} " + "  ".join(cells))
    per_figure = {n: report[n][largest][1] for n in figures() if n != "headline_numbers"}
    ours, naive = report["headline_numbers"][largest][0], report["naive_headline"][largest][0]
    counts = {n: set().union(*queries[n].values()) for n in figures()}
    checks = {
        "figure_sql_p95_le_10ms": all(v <= GOALS["figure_p95_ms"] for v in per_figure.values()),
        "headline_p95_le_200ms": ours <= GOALS["headline_p95_ms"],
        "queries_identical": all(len(c) == 1 for c in counts.values()),
        "faster_than_naive": ours < naive,
    }
    result = {
        "sizes": args.sizes,
        "rounds": args.rounds,
        "figure_sql_p95_ms_largest": per_figure,
        "slowest_figure": max(per_figure, key=per_figure.get),
        "headline_p95_ms": ours,
        "naive_headline_p95_ms": naive,
        "naive_over_ours": round(naive / ours, 1) if ours else None,
        "queries": {n: max(c) for n, c in counts.items()},
        "pass": checks,
        "ok": all(checks.values()),
    }
    print("RESULT " + json.dumps(result))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
