"""Benchmark: the dashboard as served, at 1k and 100k secrets on PostgreSQL. The home page reads
its figures from the stored rollup (dashboard.services.snapshot); this measures

- the page: p95 of GET / as a manager, with every panel a manager sees (tiles, charts, and the
  other apps' panels), through Django's full request stack (sessions, MFA check, templates);
- each panel's SQL as served (the queries its render makes, timed by Django's debug cursor);
- the recompute itself, reported separately (it is paid off the page): `recompute` is the 30 s
  beat's (every stored set, the calendar and compliance scores included), `event_recompute` what
  each burst of live events pays (the live set: tiles, age, results).

Baseline (same run, same machine load, rounds interleaved with ours): the same GET / with the
rollup bypassed, i.e. every load computing the figures from the aggregates as the page did before
the rollup (snapshot.current replaced by compute-without-storing). Same user, panels, templates
and estate; the only difference is where the figures come from. So `live_over_stored` is the
rollup's gain on page load, and `recompute_p95_ms` is the work it moved off the page. (Until this
rollup the bench timed headline_numbers() alone, 829 ms p95 at 100k under load; that figure is
now the recompute's share, and the page figure is new: it includes everything a request does.)

    .venv/bin/python bench/dashboard.py                       (or: make bench; sizes 1k,100k)
    .venv/bin/python bench/dashboard.py --sizes 1000,5000 --rounds 10   (quicker)

Databases: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/candlefish_bench_dashboard)
+ "_<size>" per size, created and migrated when missing. Each holds bench/support/inventory_data's
estate of <size> secrets (the inventory bench's shape), plus <size>/2 rotation runs ended over 90
days (3 % failed) and <size>/10 ended grants, loaded in SQL and kept between runs (`--fresh`
reloads). A router sends the ORM's queries to the size being measured; sizes alternate round by
round, so both see the same machine load. The audit tile reads verifications, anchors and the
unlinked-entry index, not the entries, so the ledger is left empty here (bench/audit.py measures
the ledger at 1M entries).

Goals (issue 12), at the largest size: page p95 <= 200 ms; each of the dashboard's own panels'
SQL p95 <= 10 ms (tiles, age, calendar, trend: all from the rollup, the first panel reading the
row pays its one query); queries per page, per panel and per recompute identical at every size;
and the stored page faster than the live baseline. Last line: RESULT {json}.
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench" / "support"))
from bench.support import stack  # noqa: E402

URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/candlefish_bench_dashboard")
GOALS = {"panel_sql_p95_ms": 10.0, "page_p95_ms": 200.0}
OWN_PANELS = ("tiles", "age", "calendar", "trend")  # the dashboard core's; the others are reported
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
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
    for url in [URL] + [f"{URL}_{size}" for size in sizes]:
        stack.ensure_database(url)
    stack.setup_django({"DATABASE_URL": URL, "DEBUG": "false"}, migrate=False)
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections, router

    router.routers.insert(0, BySize())
    call_command("migrate", verbosity=0)  # the ledger's lag probe reads "default" by name
    for size in sizes:
        alias = f"s{size}"
        config = {**connections.settings["default"], "NAME": f"{stack.database_name(URL)}_{size}"}
        settings.DATABASES[alias] = connections.settings[alias] = config
        with using(alias):
            call_command("migrate", database=alias, verbosity=0)


def due_dates(size: int) -> None:
    """The estate's statuses and due dates as the status beat keeps them (one UPDATE joined to the
    policies), so the calendar plans what a real estate of this size has due in 30 days."""
    from django.utils import timezone

    from secrets_admin.inventory.models import Secret
    from secrets_admin.inventory.services.status import refresh_all

    with using(f"s{size}"):
        if not Secret.objects.filter(next_due__isnull=False).exists():
            refresh_all(timezone.now())


def load(size: int, fresh: bool) -> None:
    import inventory_data
    from django.db import connections

    connection = connections[f"s{size}"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM rotation_rotationrun WHERE actor_name = %s", [MARK])
        runs_there = cursor.fetchone()[0]
    reloaded = inventory_data.load(connection, size, fresh=fresh)
    due_dates(size)
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


PANEL_SQL: dict[str, tuple[float, int]] = {}  # panel -> (SQL ms, queries) of the last page load


def instrument_panels() -> None:
    """Wrap every registered panel's render to record the SQL it runs as served."""
    import dataclasses

    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    from secrets_admin.dashboard import panels

    for name, panel in list(panels.PANELS.items()):

        def timed(request, _render=panel.render, _name=name):
            with CaptureQueriesContext(connections[ALIAS.get()]) as queries:
                html = _render(request)
            spent = sum(float(q["time"]) for q in queries.captured_queries) * 1000
            PANEL_SQL[_name] = (spent, len(queries))
            return html

        panels.PANELS[name] = dataclasses.replace(panel, render=timed)


def manager_client(alias: str):
    """A client signed in as a manager past the second factor, in the size's database."""
    import secrets as random_bytes

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import transaction
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY

    from secrets_admin.accounts.models import AuthenticatorDevice
    from secrets_admin.roles import MANAGERS

    with using(alias):
        user, _ = get_user_model().objects.get_or_create(username="bench-manager")
        user.groups.add(Group.objects.get_or_create(name=MANAGERS)[0])
        device = AuthenticatorDevice.objects.filter(user=user, confirmed=True).first()
        if device is None:
            device = AuthenticatorDevice(user=user, name="bench", confirmed=True)
            device.set_key(random_bytes.token_bytes(20))
            device.save()
        client = Client()
        with transaction.atomic(using=alias), transaction.atomic():  # the login is audited
            client.force_login(user)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


@contextlib.contextmanager
def live_figures():
    """The baseline: the page as before the rollup, computing its figures on every load (once
    per request, as the stored path reads once per request), without storing them."""
    from django.core.serializers.json import DjangoJSONEncoder
    from django.utils import timezone

    from secrets_admin.dashboard.services import snapshot

    original = snapshot.current

    def current(request=None):
        if request is not None and hasattr(request, "_dashboard_snapshot"):
            return request._dashboard_snapshot
        plain = json.loads(json.dumps(snapshot.compute(), cls=DjangoJSONEncoder))
        row = snapshot.Figures(snapshot._revive(plain), dict.fromkeys(plain, timezone.now()))
        if request is not None:
            request._dashboard_snapshot = row
        return row

    snapshot.current = current
    try:
        yield
    finally:
        snapshot.current = original


def get_page(client, alias: str) -> tuple[float, float, int]:
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    PANEL_SQL.clear()
    with using(alias), CaptureQueriesContext(connections[alias]) as queries:
        started = time.perf_counter()
        response = client.get("/", secure=True)
        elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200 or b'id="dashboard-tiles"' not in response.content:
        raise SystemExit(f"GET / as a manager answered {response.status_code} without the tiles")
    sql = sum(float(q["time"]) for q in queries.captured_queries) * 1000
    return elapsed, sql, len(queries)


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


def summary(samples: dict) -> dict:
    """{size: [(wall, sql, n), ...]} -> {size: [p95 wall, p95 sql, max queries]}."""
    return {
        size: [
            round(p95([s[0] for s in rows]), 2),
            round(p95([s[1] for s in rows]), 2),
            max(s[2] for s in rows),
        ]
        for size, rows in samples.items()
    }


def main(argv=None) -> int:
    args = options(argv)
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    setup_django(args.sizes)
    from secrets_admin.dashboard.services import snapshot

    for size in args.sizes:
        load(size, args.fresh)
    instrument_panels()
    clients = {size: manager_client(f"s{size}") for size in args.sizes}
    for size in args.sizes:  # a stored row exists, and each path is warm, before timing
        measure(snapshot.recompute, f"s{size}")
        get_page(clients[size], f"s{size}")
    page = {size: [] for size in args.sizes}
    live_page = {size: [] for size in args.sizes}
    recompute = {size: [] for size in args.sizes}
    event = {size: [] for size in args.sizes}
    panel = {}
    counts = {"page": set(), "recompute": set(), "event_recompute": set()}
    for _ in range(args.rounds):
        for size in args.sizes:  # alternate sizes and paths: the same machine load for all
            alias = f"s{size}"
            page[size].append(get_page(clients[size], alias))
            counts["page"].add(page[size][-1][2])
            for name, (spent, n) in PANEL_SQL.items():
                panel.setdefault(name, {}).setdefault(size, []).append((spent, spent, n))
                counts.setdefault(f"panel {name}", set()).add(n)
            with live_figures():
                live_page[size].append(get_page(clients[size], alias))
            recompute[size].append(measure(snapshot.recompute, alias))  # the beat's: every set
            counts["recompute"].add(recompute[size][-1][2])
            event[size].append(measure(lambda: snapshot.recompute(names=(snapshot.NAME,)), alias))
            counts["event_recompute"].add(event[size][-1][2])
    largest = args.sizes[-1]
    report = {
        "page": summary(page),
        "live_page": summary(live_page),
        "recompute": summary(recompute),
        "event_recompute": summary(event),
    }
    panels = {name: summary(by_size) for name, by_size in panel.items()}
    for name, by_size in {**report, **{f"panel {n}": v for n, v in panels.items()}}.items():
        cells = [f"{size}: p95 {w:8.2f} ms (SQL {q:7.2f}), {n} q" for size, (w, q, n) in by_size.items()]
        print(f"{name:26} " + "  ".join(cells))
    panel_sql = {name: panels[name][largest][1] for name in panels}
    own = {name: panel_sql[name] for name in OWN_PANELS if name in panel_sql}
    ours, live_ms = report["page"][largest][0], report["live_page"][largest][0]
    checks = {
        "page_p95_le_200ms": ours <= GOALS["page_p95_ms"],
        "panel_sql_p95_le_10ms": len(own) == len(OWN_PANELS)
        and all(v <= GOALS["panel_sql_p95_ms"] for v in own.values()),
        "queries_identical": all(len(c) == 1 for c in counts.values()),
        "faster_than_live": ours < live_ms,
    }
    result = {
        "sizes": args.sizes,
        "rounds": args.rounds,
        "page_p95_ms": ours,
        "page_sql_p95_ms": report["page"][largest][1],
        "page_queries": report["page"][largest][2],
        "live_page_p95_ms": live_ms,
        "live_over_stored": round(live_ms / ours, 1) if ours else None,
        "panel_sql_p95_ms_largest": panel_sql,
        "slowest_own_panel": max(own, key=own.get) if own else None,
        "recompute_p95_ms": report["recompute"][largest][0],
        "recompute_sql_p95_ms": report["recompute"][largest][1],
        "recompute_queries": report["recompute"][largest][2],
        "event_recompute_p95_ms": report["event_recompute"][largest][0],
        "event_recompute_sql_p95_ms": report["event_recompute"][largest][1],
        "queries_varying": sorted(k for k, c in counts.items() if len(c) != 1),
        "pass": checks,
        "ok": all(checks.values()),
    }
    print("RESULT " + json.dumps(result))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
