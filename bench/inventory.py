"""Benchmark: the inventory list at 1k and 100k secrets on PostgreSQL, against Django's admin
changelist for the same model, plus sync throughput from a real OpenBao.

    .venv/bin/python bench/inventory.py          (or: make bench)

Databases: BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/candlefish_bench_inventory
(100k secrets), and the same name + "_1k" (1k secrets), created when missing and migrated; the
inventory tables are emptied at the start of each run (DATABASE_URL is never used). A router
sends each request's queries to the database of the size being measured, so the four pages
(ours/admin x 1k/100k) are timed in alternation under the same machine load.
Secrets are bulk-created with 3 versions each (lineage). Pages are
rendered by Django's test Client through the real URL, middleware and templates, logged in as one
superuser who is also in `developers` and holds a confirmed authenticator with an OTP-verified
session (the admin requires one: accounts.admin.ConsoleAdminSite), so both pages pay the same
per-request cost. Scenarios: unfiltered first page, filtered (environment+kind+status), deep page
(the second-to-last page: a keyset cursor for ours, ?p=<last-1> for the admin).

Sync: OpenBao started by the script (console.stack.servers.OpenBao), 1,000 KV secrets written
over its HTTP API, then `sync_backend` timed (first sync: all new; second: nothing changed).

Goals (issue #4): queries per page identical at 1k and 100k and <= 10; p95(100k)/p95(1k) <= 1.5
per scenario; our page no slower (p95) than the admin changelist at 100k. Last line: RESULT {json}.
"""

import contextvars
import gc
import json
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/candlefish_bench_inventory"
URL = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
SIZES = (1_000, 100_000)
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "200"))
SYNC_SECRETS = int(os.environ.get("BENCH_SYNC_SECRETS", "1000"))
FILTER = {"environment": "production", "kind": "password", "status": "overdue"}
GOALS = {"max_queries_per_page": 10, "p95_ratio_100k_over_1k": 1.5, "ours_vs_admin_p95": 1.0}


def ensure_database(url: str, *, fresh: bool = False) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        if fresh:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


SMALL_URL = URL.rsplit("/", 1)[0] + "/" + URL.rsplit("/", 1)[1] + "_1k"
ALIAS = contextvars.ContextVar("bench_alias", default=None)  # which database the pages read


class BySize:
    """Route every ORM query to the database of the size being measured (None: default)."""

    def db_for_read(self, model, **hints):
        return ALIAS.get()

    db_for_write = db_for_read

    def allow_relation(self, *args, **hints):
        return True

    def allow_migrate(self, *args, **hints):
        return True


def setup_django(redis_url: str) -> None:
    os.environ["DATABASE_URL"] = URL
    os.environ["REDIS_URL"] = redis_url
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections, router

    small = {**connections.settings["default"], "NAME": urlsplit(SMALL_URL).path.lstrip("/")}
    settings.DATABASES["small"] = connections.settings["small"] = small
    router.routers.insert(0, BySize())
    for alias in ("default", "small"):
        with using(alias):  # data migrations that do not name a database follow the router
            call_command("migrate", database=alias, verbosity=0)


def using(alias):
    """Context manager: ORM work inside goes to `alias` ("default" = 100k, "small" = 1k)."""
    import contextlib

    @contextlib.contextmanager
    def scope():
        token = ALIAS.set(None if alias == "default" else alias)
        try:
            yield
        finally:
            ALIAS.reset(token)

    return scope()


def reset_inventory(alias: str) -> None:
    from django.db import connections

    with connections[alias].cursor() as cursor:
        cursor.execute(
            "TRUNCATE inventory_secretversion, inventory_secret, inventory_syncrun RESTART IDENTITY"
        )


def bulk_secrets(alias: str, count: int) -> None:
    """Insert `count` realistic secrets (3 versions each) into database `alias`."""
    from django.db import connections, transaction

    from secrets_admin.inventory.models import RotationPolicy, Secret, SecretVersion

    now = datetime.now(UTC)
    kinds = ("api_key", "password", "database", "certificate", "generic")
    envs = ("development", "staging", "production")
    statuses = ("ok", "ok", "ok", "due_soon", "overdue", "needs_attention", "missing")
    policies = {p.kind: p.pk for p in RotationPolicy.objects.filter(is_default=True)}
    batch = 5_000
    for offset in range(0, count, batch):
        rows = []
        for i in range(offset, min(offset + batch, count)):
            kind = kinds[i % 5]
            rotated = now - timedelta(days=(i * 7) % 120)
            rows.append(
                Secret(
                    backend=("vault", "aws")[i % 2],
                    path=f"secret/team-{i % 50:02d}/service-{i % 997:03d}/key-{i:06d}",
                    name=f"key-{i:06d}",
                    kind=kind,
                    environment=envs[i % 3],
                    owner_team=f"team-{i % 50:02d}",
                    purpose="benchmark secret",
                    tags={"tier": ("gold", "silver", "bronze")[i % 3], "cost-center": str(i % 40)},
                    created_at=rotated - timedelta(days=30),
                    last_rotated=None if i % 11 == 0 else rotated,
                    next_due=None if kind == "generic" else rotated + timedelta(days=90),
                    rotation_policy_id=policies.get(kind),
                    status=statuses[i % 7],
                    last_seen=now,
                )
            )
        with transaction.atomic(using=alias):
            made = Secret.objects.bulk_create(rows)
            SecretVersion.objects.bulk_create(
                SecretVersion(
                    secret=s,
                    version_id=str(v),
                    state="current" if v == 3 else "previous",
                    created_at=now - timedelta(days=90 * (3 - v)),
                    created_by="import",
                )
                for s in made
                for v in (1, 2, 3)
            )
    with connections[
        alias
    ].cursor() as cursor:  # what autovacuum does on a live table (visibility map, stats)
        cursor.execute("VACUUM ANALYZE inventory_secret")
        cursor.execute("VACUUM ANALYZE inventory_secretversion")


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

    from secrets_admin.inventory import paging
    from secrets_admin.inventory.models import Secret
    from secrets_admin.inventory.views import PAGE_SIZE

    ours, admin = reverse("inventory:list"), reverse("admin:inventory_secret_changelist")
    query = "&".join(f"{k}={v}" for k, v in FILTER.items())
    admin_query = "&".join(f"{k}__exact={v}" for k, v in FILTER.items())
    boundary = Secret.objects.order_by("path", "id").only("path")[total - 2 * PAGE_SIZE - 1]
    last_admin_page = (total - 1) // 100  # admin pages are 0-based, 100 rows each
    return {
        "unfiltered": (ours, admin),
        "filtered": (f"{ours}?{query}", f"{admin}?{admin_query}"),
        "deep": (f"{ours}?after={paging.encode(boundary, 'path')}", f"{admin}?p={last_admin_page - 1}"),
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


def bench_pages() -> dict:
    """Both sizes live in their own database; every round requests, in turn, our page and the
    admin's at 1k and at 100k, so all four see the same machine load (other work on the host
    moves p95 far more than the table size does)."""
    setups = {}
    for size, alias in zip(SIZES, ("small", "default"), strict=True):
        with using(alias):
            reset_inventory(alias)
            bulk_secrets(alias, size)
            setups[size] = (alias, login(), scenario_urls(size))
        print(f"loaded {size} secrets (x3 versions) into {alias}", flush=True)
    cases = [
        (size, scenario, page, alias, client, url)
        for size, (alias, client, urls) in setups.items()
        for scenario, pair in urls.items()
        for page, url in zip(("ours", "admin"), pair, strict=True)
    ]
    for _size, _scenario, _page, alias, client, url in cases * 5:  # warm-up
        with using(alias):
            assert client.get(url).status_code == 200, url
    counts = {case[:3]: _queries(case[3], case[4], case[5]) for case in cases}
    times = {case[:3]: [] for case in cases}
    gc.collect()
    gc.disable()  # a collection pause would land on whichever page happens to run then
    for _ in range(ROUNDS):
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
        print(f"{size:>7} secrets: " + json.dumps(per), flush=True)
    return results


def bench_sync() -> dict:
    import requests
    from django.conf import settings

    from console.stack.servers import OpenBao
    from secrets_admin.inventory.services.sync import sync_backend

    with tempfile.TemporaryDirectory() as tmp:
        bao = OpenBao(Path(tmp) / "openbao", token="bench-root").start()
        try:
            bao.wait_ready()
            http = requests.Session()
            http.headers["X-Vault-Token"] = bao.token

            def write(i):
                key = f"bench/team-{i % 20:02d}/key-{i:05d}"
                http.post(
                    f"{bao.url}/v1/secret/data/{key}", json={"data": {"value": os.urandom(16).hex()}}
                ).raise_for_status()
                http.post(
                    f"{bao.url}/v1/secret/metadata/{key}",
                    json={
                        "custom_metadata": {
                            "owner": f"team-{i % 20}",
                            "environment": "staging",
                            "kind": "api_key",
                        }
                    },
                ).raise_for_status()

            with ThreadPoolExecutor(8) as pool:
                list(pool.map(write, range(SYNC_SECRETS)))
            settings.SECRET_BACKENDS = {
                **settings.SECRET_BACKENDS,
                "benchkv": {
                    **settings.SECRET_BACKENDS["vault"], "url": bao.url, "token": bao.token,
                    "kv_prefix": "bench", "engines": "kv",
                },
            }  # fmt: skip
            out = {}
            for label in ("first", "second"):
                started = time.perf_counter()
                run = sync_backend("benchkv", actor="bench")
                seconds = time.perf_counter() - started
                assert run.state == "succeeded" and run.seen == SYNC_SECRETS, (run.state, run.seen, run.error)
                out[label] = {
                    "seconds": round(seconds, 2),
                    "secrets_per_s": round(SYNC_SECRETS / seconds, 1),
                    "created": run.created,
                    "changed": run.changed,
                }
                print(f"sync {label}: {json.dumps(out[label])}", flush=True)
            return out
        finally:
            bao.stop()


def verdict(pages: dict, sync: dict) -> dict:
    small, large = pages[SIZES[0]], pages[SIZES[1]]
    ratios, vs_admin, queries = {}, {}, {}
    for name in small:
        ratios[name] = round(large[name]["ours"]["p95_ms"] / small[name]["ours"]["p95_ms"], 2)
        vs_admin[name] = round(large[name]["ours"]["p95_ms"] / large[name]["admin"]["p95_ms"], 2)
        queries[name] = [small[name]["ours"]["queries"], large[name]["ours"]["queries"]]
    goals = {
        "queries_identical_and_le_10": all(
            a == b <= GOALS["max_queries_per_page"] for a, b in queries.values()
        ),
        "p95_ratio_le_1_5": all(r <= GOALS["p95_ratio_100k_over_1k"] for r in ratios.values()),
        "no_slower_than_admin": all(r <= GOALS["ours_vs_admin_p95"] for r in vs_admin.values()),
    }
    return {
        "sizes": list(SIZES),
        "rounds": ROUNDS,
        "pages": {str(k): v for k, v in pages.items()},
        "queries_per_page_1k_100k": queries,
        "p95_ratio_100k_over_1k": ratios,
        "ours_over_admin_p95_at_100k": vs_admin,
        "sync_1000_kv": sync,
        "goals": goals,
        "pass": all(goals.values()),
    }


def main() -> int:
    from console.stack.servers import Valkey

    ensure_database(URL)
    ensure_database(SMALL_URL, fresh=True)  # bench-only, small: recreated each run
    with tempfile.TemporaryDirectory() as tmp:
        redis = Valkey(Path(tmp) / "redis").start()
        try:
            redis.wait_ready()
            setup_django(redis.url)
            pages = bench_pages()
            sync = bench_sync()
        finally:
            redis.stop()
    result = verdict(pages, sync)
    print("RESULT " + json.dumps(result, separators=(",", ":")))
    return 0 if result["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
