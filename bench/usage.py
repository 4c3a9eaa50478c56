"""Benchmark: access patterns, spikes, candidates to retire, cost and break-glass analytics at
1k secrets / 100k requests rolled up (the baseline, same run) and at 100k secrets / 10M requests.

    .venv/bin/python bench/usage.py          (or: make bench)

Database: BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/candlefish_bench_usage,
recreated each run and migrated (DATABASE_URL is never used). No backend is called: every figure
comes from the inventory and the rollup.

Data per scale: secrets (70% OpenBao KV, 30% AWS with LastAccessedDate spread over 200 days), and
rollup rows over 100 days (~10 requests a row: 10k rows at the small scale, 1M at the large one),
with each path's last read. Timed (p95 over BENCH_ROUNDS): beat's summary (`usage.summarise`,
every 5 minutes), each service the detail pages use, and the three home-page panels rendered
(they read the summary). Goals: each panel's p95 <= 100 ms at 100k secrets; beat's summary
p95 <= 5 s; the query count of every measured call identical at both scales (no per-row queries).
Last line: RESULT {json}.
"""

import json
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.support import stack  # noqa: E402
from bench.support.stack import p95  # noqa: E402

URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/candlefish_bench_usage")
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "30"))
SCALES = {"small": (1_000, 10_000), "large": (int(os.environ.get("BENCH_SECRETS", "100000")), 1_000_000)}
GOALS = {"panel_p95_ms": 100, "summarise_p95_ms": 5000}


def fill(secrets: int, rows: int) -> dict:
    """Replace the estate and the rollup with `secrets` secrets and `rows` rollup rows."""
    from django.db import connection
    from django.utils import timezone

    from secrets_admin.inventory.models import Secret
    from secrets_admin.usage.services import daily

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE inventory_secret, usage_hourlyaccess, usage_dailyaccess, usage_lastread CASCADE"
        )
    now = timezone.now()
    vault = int(secrets * 0.7)
    batch = []
    for i in range(secrets):
        aws = i >= vault
        batch.append(
            Secret(
                backend="aws" if aws else "vault",
                path=f"arn:aws:secretsmanager:eu-west-1:1:secret:app-{i}"
                if aws
                else f"secret/team-{i % 40}/app-{i}",
                name=f"app-{i}",
                kind="password",
                created_at=now - timedelta(days=200 - i % 150),
                last_accessed=(now - timedelta(days=i % 200)) if aws and i % 3 else None,
                status="ok",
            )  # fmt: skip
        )
        if len(batch) == 10_000:
            Secret.objects.bulk_create(batch)
            batch = []
    Secret.objects.bulk_create(batch)
    first = Secret.objects.order_by("id").values_list("id", flat=True).first()
    with connection.cursor() as cursor:
        # Unique keys: (hour, secret) repeats only every lcm(2400, vault) rows; the identity's
        # suffix separates those repeats.
        cursor.execute(
            """
            INSERT INTO usage_hourlyaccess (hour, path, secret_id, identity, entity, operation, "count", demo)
            SELECT date_trunc('hour', now()) - (i %% 2400) * interval '1 hour', s.path, s.id,
                   'svc-' || (i %% 40) || '-' || (i / 240000), '',
                   CASE WHEN i %% 10 = 0 THEN 'list' ELSE 'read' END, 1 + (i %% 19), false
            FROM generate_series(1, %s) AS i
            JOIN inventory_secret s ON s.id = %s + ((i::bigint * 7919) %% %s)
            ON CONFLICT DO NOTHING
            """,
            [rows, first, vault],
        )
        cursor.execute(
            "INSERT INTO usage_lastread (path, last_read_at) SELECT path, max(hour) FROM usage_hourlyaccess "
            "WHERE operation = 'read' GROUP BY path"
        )
        daily.rebuild()  # the daily rollup the ingest keeps beside the hours
        for table in ("inventory_secret", "usage_hourlyaccess", "usage_dailyaccess", "usage_lastread"):
            cursor.execute(f"VACUUM ANALYZE {table}")
        cursor.execute('SELECT count(*), sum("count") FROM usage_hourlyaccess')
        counted, requests = cursor.fetchone()
    return {"secrets": secrets, "rollup_rows": counted, "requests": int(requests or 0)}


def measure(call) -> dict:
    from django.db import connection

    queries = []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    call()  # warm: a first call may create what later calls update (the summary row)
    with connection.execute_wrapper(count):
        call()
    samples = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return {"p50_ms": round(statistics.median(samples), 1), "p95_ms": p95(samples), "queries": len(queries)}


def calls() -> dict:
    from django.contrib.auth.models import AnonymousUser
    from django.test import RequestFactory

    from breakglass import analytics
    from secrets_admin.usage import panels
    from secrets_admin.usage.services import anomalies, cost, patterns, summary

    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    filters = patterns.parse({})
    return {
        "summarise_beat": lambda: summary.refresh(),  # first: the panels read what it stores
        "per_hour": lambda: patterns.per_period(filters),
        "per_secret": lambda: patterns.per_secret(filters),
        "per_identity": lambda: patterns.per_identity(filters),
        "total": lambda: patterns.total(filters),
        "spikes": lambda: anomalies.spikes(),
        "stale_count": lambda: anomalies.stale_count(),
        "stale_page": lambda: anomalies.stale(),
        "cost": lambda: cost.estimate(),
        "panel_access": lambda: panels.access_panel(request),
        "panel_cost": lambda: panels.cost_panel(request),
        "panel_breakglass": lambda: analytics.panel(request),
    }


def main() -> int:
    stack.fresh_database(URL)
    stack.setup_django({"DATABASE_URL": URL, "DEBUG": "false"}, overrides={"ALLOWED_HOSTS": ["*"]})
    figures = {}
    for scale, (secrets, rows) in SCALES.items():
        started = time.perf_counter()
        data = fill(secrets, rows)
        data["fill_s"] = round(time.perf_counter() - started, 1)
        figures[scale] = {"data": data, **{name: measure(call) for name, call in calls().items()}}
        print(f"{scale}: {json.dumps(figures[scale])}", flush=True)
    small, large = figures["small"], figures["large"]
    names = [name for name in large if name != "data"]
    goals = {
        "panels_p95_le_100ms": all(
            large[name]["p95_ms"] <= GOALS["panel_p95_ms"] for name in names if name.startswith("panel_")
        ),
        "summarise_p95_le_5s": large["summarise_beat"]["p95_ms"] <= GOALS["summarise_p95_ms"],
        "queries_identical_small_and_large": all(small[n]["queries"] == large[n]["queries"] for n in names),
    }
    result = {
        "small": small,
        "large": large,
        "p95_ratio_large_over_small": {
            n: round(large[n]["p95_ms"] / max(small[n]["p95_ms"], 0.1), 1) for n in names
        },
        "load_average": os.getloadavg(),
        "goals": goals,
        "pass": all(goals.values()),
    }
    print("RESULT " + json.dumps(result, separators=(",", ":")))
    return 0 if result["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
