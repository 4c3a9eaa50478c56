"""Benchmark: the dashboard as served, at 1k and 100k secrets on PostgreSQL, each size in one
database holding the whole history the issue names (at 100k: 100k secrets, 1M audit entries, 50k
rotation runs, 10k grants, 10M OpenBao requests rolled up; bench/support/dashboard_data.py loads
them with SQL, not the ORM, and keeps them between runs). The home page reads its figures from the
stored rollup (dashboard.services.snapshot); this measures

- the page: p95 of GET / as a manager, with every panel a manager sees (tiles, charts, and the
  other apps' panels), through Django's full request stack (sessions, MFA check, templates);
- each panel's SQL as served (the queries its render makes, timed by Django's debug cursor);
- GET /usage/ as a manager (`usage_page`: its figures from the usage summary beat stores), reported;
- the recompute itself, paid off the page: `recompute` is the 30 s beat's (every stored set, the
  calendar and compliance scores included), `event_recompute` the whole live set (what each event
  cost the announcing process before the Celery task), and the parts a rotation and an approval
  now recompute (`rotation_parts`, `approval_parts`, in the task);
- live latency: a real Celery worker (subprocess) and a manager's socket on the real consumer;
  from `dashboard.live.changed()` after a rotation's or an approval's commit to the socket holding
  the new tiles (and, for a rotation, the charts' later round; see
  bench/support/dashboard_live.py), and what `changed()` costs the announcing process. CPU
  (user+sys) of the worker and of this process is reported.

Baseline (same run, same machine load, rounds interleaved with ours): the same GET / with the
rollup bypassed, i.e. every load computing the figures from the aggregates as the page did before
the rollup (snapshot.current replaced by compute-without-storing). Same user, panels, templates
and estate; the only difference is where the figures come from. So `live_over_stored` is the
rollup's gain on page load; `page_rendered_each_load` is the same stored page with the panels'
render cache emptied before the load (every panel rendered, as before panels.render_once). For
the event path, the baseline is `event_recompute` (the live set recomputed in the announcing
process, as before the task), against `announce_p95_ms`. The age
histogram's counters against the full scan they replaced, and /usage/ filtered to 90 days from
the daily rollup against the hourly aggregates: bench/support/dashboard_baselines.py.

    .venv/bin/python bench/dashboard.py                       (or: make bench; sizes 1k,100k)
    .venv/bin/python bench/dashboard.py --sizes 1000,5000 --rounds 10   (quicker)

Databases: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/candlefish_bench_dashboard)
+ "_<size>" per size, created and migrated when missing (`--fresh` reloads). A router sends the
ORM's queries to the size being measured; sizes alternate round by round, so both see the same
machine load. Redis: REDIS_URL (default db 15): broker, cache and channel layer; its queue is purged.

Goals (issue 12), at the largest size: page p95 <= 200 ms; each of the dashboard's own panels'
SQL p95 <= 10 ms (tiles, age, calendar, trend: all from the rollup, the first panel reading the
row pays its one query); queries per page, per panel and per recompute identical at every size;
the stored page faster than the live baseline; event -> tiles on the socket p95 <= 1000 ms for
both kinds of event, and for the charts' round after a rotation. Last line: RESULT {json}.
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
GOALS = {"panel_sql_p95_ms": 10.0, "page_p95_ms": 200.0, "live_p95_ms": 1000.0}
OWN_PANELS = ("tiles", "age", "calendar", "trend")  # the dashboard core's; the others are reported
ALIAS = contextvars.ContextVar("bench_alias", default=None)


def options(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=os.environ.get("BENCH_SIZES", "1000,100000"))
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", "50")))
    parser.add_argument("--fresh", action="store_true", help="reload every estate")
    parser.add_argument("--events", type=int, default=int(os.environ.get("BENCH_EVENTS", "20")))
    args = parser.parse_args(argv)
    args.sizes = sorted(int(size) for size in args.sizes.split(","))
    return args


class BySize:
    forced = None  # the live phase's size: the consumer's and channels' threads read it too

    def db_for_read(self, model, **hints):
        return ALIAS.get() or BySize.forced

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


def load(size: int, fresh: bool) -> dict:
    import dashboard_data
    import inventory_data
    from django.db import connections

    connection = connections[f"s{size}"]
    from secrets_admin.dashboard.services import age_counts

    reloaded = inventory_data.load(connection, size, fresh=fresh)
    due_dates(size)
    loaded = dashboard_data.load(connection, size, reloaded=reloaded or fresh)
    with using(f"s{size}"):  # the loaders write with triggers off: count as the beat's reconcile does
        loaded["age_counters_rebuilt"] = age_counts.rebuild()
    return loaded


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


def get_page(client, alias: str, path="/", marker=b'id="dashboard-tiles"') -> tuple[float, float, int]:
    PANEL_SQL.clear()
    found = {}
    timing = measure(lambda: found.setdefault("response", client.get(path, secure=True)), alias)
    response = found["response"]
    if response.status_code != 200 or marker not in response.content:
        raise SystemExit(f"GET {path} as a manager answered {response.status_code} without {marker}")
    return timing


def measure(fn, alias: str) -> tuple[float, float, int]:
    """(wall ms, ms spent in SQL as the debug cursor timed it, queries) of one call."""
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    # Django keeps the last 9,000 queries: once full, a capture's slice of it is empty, and a long
    # run counted 0 queries (and 0 ms of SQL) for pages that made 14. Each capture starts empty.
    connections[alias].queries_log.clear()
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


def summarise():
    from secrets_admin.usage.services import summary

    summary.refresh()


def parts(names):
    from secrets_admin.dashboard.services import refresh

    return lambda: refresh.recompute_parts(refresh.parts_for(names))


def main(argv=None) -> int:
    args = options(argv)
    from dashboard_baselines import age_counts_call, live_figures, usage_call

    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    setup_django(args.sizes)
    from secrets_admin.dashboard import panels
    from secrets_admin.dashboard.services import snapshot

    loaded = {size: load(size, args.fresh) for size in args.sizes}
    print(f"loaded: {json.dumps(loaded)}  (uptime: {os.getloadavg()})")
    instrument_panels()
    clients = {size: manager_client(f"s{size}") for size in args.sizes}
    for size in args.sizes:  # a stored row exists, and each path is warm, before timing
        measure(snapshot.recompute, f"s{size}")
        get_page(clients[size], f"s{size}")
        measure(summarise, f"s{size}")  # the usage beat's summary (every 5 minutes), as stored
        get_page(clients[size], f"s{size}", "/usage/", b"data-as-of")
    timed = ("page", "page_rendered_each_load", "live_page", "usage_page", "recompute", "event_recompute")
    timed += ("rotation_parts", "approval_parts", "age_counters", "age_scan")
    timed += ("usage_90d_daily", "usage_90d_hourly")
    samples = {name: {size: [] for size in args.sizes} for name in timed}
    calls = {
        "recompute": snapshot.recompute,  # the beat's: every set
        "event_recompute": lambda: snapshot.recompute(names=(snapshot.NAME,)),  # the old event path
        "rotation_parts": parts("rotation"),  # the task's, for a rotation ending
        "approval_parts": parts("approvals"),
        "age_counters": age_counts_call(scan=False),  # the histogram's counts now ...
        "age_scan": age_counts_call(scan=True),  # ... and by the full scan it replaced (baseline)
        "usage_90d_daily": usage_call(daily_rollup=True),  # /usage/ filtered to 90 days now ...
        "usage_90d_hourly": usage_call(daily_rollup=False),  # ... and over the hours, as before (baseline)
    }
    panel = {}
    counts = {name: set() for name in timed if name not in ("live_page", "page_rendered_each_load")}
    cpu_started, wall_started = time.process_time(), time.perf_counter()
    for _ in range(args.rounds):
        for size in args.sizes:  # alternate sizes and paths: the same machine load for all
            alias = f"s{size}"
            samples["page"][size].append(get_page(clients[size], alias))
            counts["page"].add(samples["page"][size][-1][2])
            for name, (spent, n) in PANEL_SQL.items():
                panel.setdefault(name, {}).setdefault(size, []).append((spent, spent, n))
                counts.setdefault(f"panel {name}", set()).add(n)
            with live_figures():
                samples["live_page"][size].append(get_page(clients[size], alias))
            panels.RENDERED.clear()  # A/B: every stored panel rendered again, as before render_once
            samples["page_rendered_each_load"][size].append(get_page(clients[size], alias))
            samples["usage_page"][size].append(get_page(clients[size], alias, "/usage/", b"data-as-of"))
            counts["usage_page"].add(samples["usage_page"][size][-1][2])
            for name, call in calls.items():
                samples[name][size].append(measure(call, alias))
                counts[name].add(samples[name][size][-1][2])
    cpu_s, wall_s = time.process_time() - cpu_started, time.perf_counter() - wall_started
    import dashboard_live

    latency = dashboard_live.latency(args.sizes, args.events, clients, URL, ALIAS, BySize)
    largest = args.sizes[-1]
    report = {name: summary(by_size) for name, by_size in samples.items()}
    panels = {name: summary(by_size) for name, by_size in panel.items()}
    for name, by_size in {**report, **{f"panel {n}": v for n, v in panels.items()}}.items():
        cells = [f"{size}: p95 {w:8.2f} ms (SQL {q:7.2f}), {n} q" for size, (w, q, n) in by_size.items()]
        print(f"{name:26} " + "  ".join(cells))
    live = {}
    for size, found in latency.items():
        kinds = ("rotation", "approvals", "rotation_charts", "announce")
        live[size] = {kind: round(p95(found[kind]), 1) for kind in kinds}
        live[size].update({k: found[k] for k in ("wall_s", "worker_cpu_s", "bench_cpu_s")})
        print(f"live {size:>7}: event -> socket p95 {json.dumps(live[size])}")
    panel_sql = {name: panels[name][largest][1] for name in panels}
    own = {name: panel_sql[name] for name in OWN_PANELS if name in panel_sql}
    ours, live_ms = report["page"][largest][0], report["live_page"][largest][0]
    slowest_event = max(live[largest]["rotation"], live[largest]["approvals"])
    same = {}
    for size in args.sizes:  # the baselines compute the same figures
        with using(f"s{size}"):
            same[size] = [
                age_counts_call(scan=False)() == age_counts_call(scan=True)(),
                usage_call(daily_rollup=True)() == usage_call(daily_rollup=False)(),
            ]
    checks = {
        "page_p95_le_200ms": ours <= GOALS["page_p95_ms"],
        "panel_sql_p95_le_10ms": len(own) == len(OWN_PANELS)
        and all(v <= GOALS["panel_sql_p95_ms"] for v in own.values()),
        "queries_identical": all(len(c) == 1 for c in counts.values()),
        "faster_than_live": ours < live_ms,
        "event_to_socket_p95_le_1s": slowest_event <= GOALS["live_p95_ms"],
        "charts_to_socket_p95_le_1s": live[largest]["rotation_charts"] <= GOALS["live_p95_ms"],
        "baselines_same_numbers": all(all(v) for v in same.values()),
    }
    result = {
        "sizes": args.sizes,
        "rounds": args.rounds,
        "events": args.events,
        "loaded_largest": loaded[largest],
        "page_p95_ms": ours,
        "page_sql_p95_ms": report["page"][largest][1],
        "page_queries": report["page"][largest][2],
        "live_page_p95_ms": live_ms,
        "page_rendered_each_load_p95_ms": report["page_rendered_each_load"][largest][0],
        "usage_page_p95_ms": report["usage_page"][largest][0],
        "live_over_stored": round(live_ms / ours, 1) if ours else None,
        "panel_sql_p95_ms_largest": panel_sql,
        "slowest_own_panel": max(own, key=own.get) if own else None,
        "recompute_p95_ms": report["recompute"][largest][0],
        "event_recompute_p95_ms": report["event_recompute"][largest][0],
        "rotation_parts_p95_ms": report["rotation_parts"][largest][0],
        "approval_parts_p95_ms": report["approval_parts"][largest][0],
        "age_counters_p95_ms": report["age_counters"][largest][0],
        "age_scan_p95_ms": report["age_scan"][largest][0],
        "usage_90d_daily_p95_ms": report["usage_90d_daily"][largest][0],
        "usage_90d_hourly_p95_ms": report["usage_90d_hourly"][largest][0],
        "event_to_socket_p95_ms": live,  # per size: each kind, changed()'s cost, wall and CPU s
        "announce_p95_ms": live[largest]["announce"],
        "announcer_gain": round(report["event_recompute"][largest][0] / max(live[largest]["announce"], 0.01)),
        "page_rounds_cpu_s": round(cpu_s, 1),
        "page_rounds_wall_s": round(wall_s, 1),
        "load": [round(v, 2) for v in os.getloadavg()],
        "queries_varying": sorted(k for k, c in counts.items() if len(c) != 1),
        "pass": checks,
        "ok": all(checks.values()),
    }
    print("RESULT " + json.dumps(result))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
