"""Benchmark: the inventory list at 1k, 100k and 1M secrets on PostgreSQL against Django's admin
changelist configured the same way; the status recompute at 100k; sync throughput from a real
OpenBao against a raw hvac loop doing the same reads.

    .venv/bin/python bench/inventory.py                    (or: make bench; sizes 1k,100k,1M)
    .venv/bin/python bench/inventory.py --sizes 1000,100000 --sync-secrets 2000   (quicker)

Databases: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/candlefish_bench_inventory)
holds the login and sessions; each size has its own database, the same name + "_<size>",
created when missing and migrated (with the search and tag indexes). An estate is loaded by
bench/support/inventory_data.py in SQL and kept between runs when its size and shape match
(`--fresh` reloads). DATABASE_URL is never used. A router sends each request's queries to the
database of the size measured, so every page at every size is timed in alternation under the
same machine load.

Pages are rendered by Django's test Client through the real URL, middleware and templates,
logged in as one superuser in `developers` with an OTP-verified session (the admin requires
one), so both pages pay the same per-request cost. The admin changelist is configured like our
page (inventory.admin.SecretAdmin): 25 rows, `show_full_result_count = False`, the same search
(its get_search_results calls the page's inventory.filters.search: the same indexes on the
search_text column, the same phrase semantics), the same tag filter, the same default order.
Both return the same rows. One difference is ours by design: for a search, our page fetches the
matching ids (up to its count cap) in place of a count and reads the page by primary key, so the
index match runs once per page; the admin counts and then pages the search, running it twice.
Scenarios: unfiltered first page; filtered
(environment+kind+status, the indexed drill-down); deep (the second-to-last page: a keyset cursor
for ours, ?p=<pages-1> for the admin); search (a key-number fragment matching ten secrets at any
size); tag (tier=gold, a third of the estate).
The search does the same work at every size: a term of the same shape and length ("key-" and six
digits: key-000050 at 1k, key-050000 at 1M) that matches exactly ten secrets (counted before
the timing, the run stops otherwise), so both pages show one page of ten rows in every round,
with the same queries; a term of 6+ characters reads the 6-character-window index (inventory
migration 0007) at every size.

Goals (issue 8): our queries per page identical at every size and <= 10; p95(largest)/p95(1k)
<= 1.5 per scenario; our p95 no slower than the admin's at the largest size; the status
recompute of the 100k estate <= 1 s both when nothing changes and a day after the last run
(the rows that change), with the backend's CPU seconds reported next to the wall time;
sync of the unchanged estate >= 0.7x the raw loop's rate, and cheaper than a changed estate.
Last line: RESULT {json}.
"""

import argparse
import contextlib
import contextvars
import gc
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench" / "support"))
from bench.support import stack  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/candlefish_bench_inventory"
URL = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
FILTER = {"environment": "production", "kind": "password", "status": "overdue"}
GOALS = {
    "max_queries_per_page": 10,
    "p95_ratio_largest_over_1k": 1.5,
    "ours_vs_admin_p95": 1.0,
    "status_refresh_seconds_100k": 1.0,
    "sync_unchanged_over_raw": 0.7,
}
SEARCH_MATCHES = 10  # the search scenario's rows at every size (checked before timing)
ALIAS = contextvars.ContextVar("bench_alias", default=None)  # which database the pages read


def options(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=os.environ.get("BENCH_SIZES", "1000,100000,1000000"))
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", "100")))
    parser.add_argument(
        "--sync-secrets", type=int, default=int(os.environ.get("BENCH_SYNC_SECRETS", "10000"))
    )
    parser.add_argument("--fresh", action="store_true", help="reload every estate")
    args = parser.parse_args(argv)
    args.sizes = sorted(int(size) for size in args.sizes.split(","))
    return args


def db_url(size: int) -> str:
    return f"{URL}_{size}"


class BySize:
    """Route every ORM query to the database of the size being measured (None: default)."""

    def db_for_read(self, model, **hints):
        return ALIAS.get()

    db_for_write = db_for_read

    def allow_relation(self, *args, **hints):
        return True

    def allow_migrate(self, *args, **hints):
        return True


@contextlib.contextmanager
def using(alias):
    """ORM work inside goes to `alias` ("default": the login database; "s<size>": an estate)."""
    token = ALIAS.set(None if alias == "default" else alias)
    try:
        yield
    finally:
        ALIAS.reset(token)


def setup_django(redis_url: str, sizes) -> None:
    stack.setup_django({"DATABASE_URL": URL, "REDIS_URL": redis_url, "DEBUG": "false"}, migrate=False)
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections, router

    router.routers.insert(0, BySize())
    for alias, url in [("default", URL)] + [(f"s{size}", db_url(size)) for size in sizes]:
        config = {**connections.settings["default"], "NAME": stack.database_name(url)}
        settings.DATABASES[alias] = connections.settings[alias] = config
        with using(alias):  # data migrations that do not name a database follow the router
            call_command("migrate", database=alias, verbosity=0)


def login():
    from django.contrib.auth.models import Group, User
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY

    from secrets_admin.accounts.models import AuthenticatorDevice

    user, created = User.objects.get_or_create(
        username="bench", defaults={"is_superuser": True, "is_staff": True, "email": "bench@example.com"}
    )
    user.groups.add(Group.objects.get(name="developers"))
    device = AuthenticatorDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = AuthenticatorDevice(user=user, name="bench", confirmed=True)
        device.set_key(os.urandom(20))
        device.save()
    # A logged-in, OTP-verified session written directly (force_login would fire the login
    # signal, whose audit entry belongs to the default database, not the one being measured).
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
    return client


def scenario_urls(total: int) -> dict:
    from django.urls import reverse
    from inventory_data import search_term

    from secrets_admin.inventory import paging
    from secrets_admin.inventory.filters import search
    from secrets_admin.inventory.models import Secret
    from secrets_admin.inventory.views import PAGE_SIZE

    ours, admin = reverse("inventory:list"), reverse("admin:inventory_secret_changelist")
    query = "&".join(f"{k}={v}" for k, v in FILTER.items())
    admin_query = "&".join(f"{k}__exact={v}" for k, v in FILTER.items())
    boundary = Secret.objects.order_by("path", "id").only("path")[total - 2 * PAGE_SIZE - 1]
    pages = -(-total // PAGE_SIZE)  # the admin's pages are 1-based, PAGE_SIZE rows each
    # The same search work at every size: a 10-character term of the same shape ("key-" and six
    # digits), matching exactly SEARCH_MATCHES rows, so both pages show one page of ten rows.
    matches = search(Secret.objects.all(), search_term(total)).count()
    assert matches == SEARCH_MATCHES, f"{search_term(total)!r} matches {matches} secrets at {total}"
    term, tag = quote(search_term(total)), quote("tier=gold")
    return {
        "unfiltered": (ours, admin),
        "filtered": (f"{ours}?{query}", f"{admin}?{admin_query}"),
        "deep": (f"{ours}?after={paging.encode(boundary, 'path')}", f"{admin}?p={pages - 1}"),
        "search": (f"{ours}?q={term}", f"{admin}?q={term}"),
        "tag": (f"{ours}?tag={tag}", f"{admin}?tag={tag}"),
    }


def _queries(alias: str, client, url: str) -> int:
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    with using(alias), CaptureQueriesContext(connections[alias]) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)  # read now: the next request's start clears the connection's log


def _summary(times: list[float], queries: int) -> dict:
    times = sorted(times)
    return {
        "p50_ms": round(statistics.median(times), 2),
        "p95_ms": round(times[min(len(times) - 1, int(len(times) * 0.95))], 2),
        "queries": queries,
    }


def bench_pages(sizes, rounds: int, fresh: bool) -> dict:
    """Every round requests, in turn, every scenario of both pages at every size, so all see
    the same machine load (other work on the host moves p95 far more than the table size)."""
    from django.db import connections
    from inventory_data import load, search_term

    setups = {}
    for size in sizes:
        alias = f"s{size}"
        started = time.perf_counter()
        with using(alias):
            reloaded = load(connections[alias], size, fresh=fresh)
            setups[size] = (alias, login(), scenario_urls(size))
        how = f"loaded in {time.perf_counter() - started:.0f} s" if reloaded else "reused"
        found = f"search {search_term(size)!r}: {SEARCH_MATCHES} matches"
        print(f"{size} secrets (x3 versions) in {alias}: {how}; {found}", flush=True)
    cases = [
        (size, scenario, page, alias, client, url)
        for size, (alias, client, urls) in setups.items()
        for scenario, pair in urls.items()
        for page, url in zip(("ours", "admin"), pair, strict=True)
    ]
    for _size, _scenario, _page, alias, client, url in cases * 3:  # warm-up
        with using(alias):
            assert client.get(url).status_code == 200, url
    counts = {case[:3]: _queries(case[3], case[4], case[5]) for case in cases}
    times = {case[:3]: [] for case in cases}
    gc.collect()
    gc.disable()  # a collection pause would land on whichever page happens to run then
    for _ in range(rounds):
        for size, scenario, page, alias, client, url in cases:
            with using(alias):
                started = time.perf_counter()
                client.get(url)
                times[(size, scenario, page)].append((time.perf_counter() - started) * 1000)
    gc.enable()
    results = {}
    for (size, scenario, page), samples in times.items():
        results.setdefault(size, {}).setdefault(scenario, {})[page] = _summary(
            samples, counts[(size, scenario, page)]
        )
    for size, per in results.items():
        print(f"{size:>8} secrets: " + json.dumps(per), flush=True)
    return results


def _backend_cpu(connection) -> float | None:
    """User+system CPU seconds of this connection's PostgreSQL backend (None when the server is
    not on this machine): on a shared host the wall time of one statement says little alone."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_status(size: int) -> dict:
    """The beat's status recompute on the estate of `size`: `refresh_all` in a transaction, then
    `flush_search_indexes` (the beat's two steps, without the audit entry). Runs: the first (the
    bench estate's statuses are arbitrary: most rows change; then VACUUM ANALYZE, as autovacuum
    would after so many updates; it is off on the shared bench server), the next (nothing
    changes: `steady`), and a run a day later (`a_day_later`: about 1.3% of the statuses change,
    each a new row version in every index). Each reports wall seconds, the PostgreSQL backend's
    CPU seconds and the rows changed; both goal runs must take <= 1 s."""
    from django.db import connections, transaction
    from django.utils import timezone

    from secrets_admin.inventory.services.status import flush_search_indexes, refresh_all

    alias, out = f"s{size}", {}
    now = timezone.now()
    with using(alias):
        connection = connections[alias]
        for label, moment in (("first", now), ("steady", now), ("a_day_later", now + timedelta(days=1))):
            cpu, started = _backend_cpu(connection), time.perf_counter()
            with transaction.atomic(using=alias):
                changed = refresh_all(moment)
            merged = flush_search_indexes()
            seconds = time.perf_counter() - started
            cpu = None if cpu is None else round(_backend_cpu(connection) - cpu, 3)
            out[label] = {"seconds": round(seconds, 3), "server_cpu_s": cpu, **changed, "gin_pages": merged}
            if label == "first" and changed["status"] + changed["next_due"] > size // 10:
                with connection.cursor() as cursor:  # what autovacuum does after that many updates
                    cursor.execute("VACUUM ANALYZE inventory_secret")
        with transaction.atomic(using=alias):
            refresh_all(now)  # leave the estate as a beat run now would
        flush_search_indexes()
        connection.close()
    print(f"status refresh at {size}: {json.dumps(out)}", flush=True)
    return out


def verdict(sizes, pages: dict, status: dict, sync: dict) -> dict:
    small, large = pages[sizes[0]], pages[sizes[-1]]
    ratios, vs_admin, queries = {}, {}, {}
    for name in small:
        ratios[name] = round(large[name]["ours"]["p95_ms"] / small[name]["ours"]["p95_ms"], 2)
        vs_admin[name] = round(large[name]["ours"]["p95_ms"] / large[name]["admin"]["p95_ms"], 2)
        queries[name] = [pages[size][name]["ours"]["queries"] for size in sizes]
    goals = {
        "queries_identical_and_le_10": all(
            len(set(q)) == 1 and q[0] <= GOALS["max_queries_per_page"] for q in queries.values()
        ),
        "p95_ratio_le_1_5": all(r <= GOALS["p95_ratio_largest_over_1k"] for r in ratios.values()),
        "no_slower_than_admin": all(r <= GOALS["ours_vs_admin_p95"] for r in vs_admin.values()),
        "status_refresh_steady_le_1s": status.get("steady", {}).get("seconds", 99)
        <= GOALS["status_refresh_seconds_100k"],
        "status_refresh_day_later_le_1s": status.get("a_day_later", {}).get("seconds", 99)
        <= GOALS["status_refresh_seconds_100k"],
        "sync_ge_0_7_raw": sync["unchanged_over_raw"] >= GOALS["sync_unchanged_over_raw"],
        "unchanged_cheaper_than_changed": sync["unchanged_seconds"] < sync["changed_seconds"],
    }
    return {
        "sizes": sizes,
        "pages": {str(k): v for k, v in pages.items()},
        "queries_per_page_by_size": queries,
        "p95_ratio_largest_over_1k": ratios,
        "ours_over_admin_p95_at_largest": vs_admin,
        "status_refresh_100k": status,
        "sync": sync,
        "load_average": stack.load_average(),
        "goals": goals,
        "pass": all(goals.values()),
    }


def main(argv=None) -> int:
    args = options(argv)
    stack.ensure_database(URL)
    for size in args.sizes:
        stack.ensure_database(db_url(size))
    with tempfile.TemporaryDirectory() as tmp:
        redis = stack.start_valkey(tmp)
        try:
            setup_django(redis.url, args.sizes)
            pages = bench_pages(args.sizes, args.rounds, args.fresh)
            status_size = 100_000 if 100_000 in args.sizes else args.sizes[-1]
            status = bench_status(status_size)
            from inventory_sync import bench_sync

            sync = bench_sync(args.sync_secrets)
        finally:
            redis.stop()
    result = verdict(args.sizes, pages, status, sync)
    result["rounds"], result["status_refresh_size"] = args.rounds, status_size
    print("RESULT " + json.dumps(result, separators=(",", ":")))
    return 0 if result["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
