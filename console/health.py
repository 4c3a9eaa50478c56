"""Liveness and readiness.

/healthz answers while the process lives. /readyz runs every probe named in
settings.READINESS_PROBES (dotted paths, so backends register without console importing them)
and answers 503 when one fails, naming it.
"""

import time
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.utils.module_loading import import_string
from django.views.decorators.cache import never_cache


def probe_database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def probe_redis():
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    finally:
        client.close()


def run_probe(name: str, dotted: str) -> dict:
    started = time.monotonic()
    try:
        import_string(dotted)()
    except Exception as exc:  # a probe reports any failure; it never raises out of /readyz
        state = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    else:
        state = {"ok": True}
    state["ms"] = round((time.monotonic() - started) * 1000, 1)
    return state


def readiness() -> dict:
    """{name: {"ok": bool, "ms": float, "error"?: str}} for every configured probe."""
    probes = dict(settings.READINESS_PROBES)
    # The database probe stays on this thread (Django connections are per thread); the network
    # probes run in parallel so one slow backend does not add its timeout to every other.
    database = probes.pop("database", None)
    with ThreadPoolExecutor(max_workers=max(1, len(probes))) as pool:
        futures = {name: pool.submit(run_probe, name, dotted) for name, dotted in probes.items()}
        results = {"database": run_probe("database", database)} if database else {}
    results.update({name: future.result() for name, future in futures.items()})
    return results


@never_cache
def healthz(request):
    return JsonResponse({"status": "alive"})


@never_cache
def readyz(request):
    checks = readiness()
    ready = all(c["ok"] for c in checks.values())
    return JsonResponse(
        {"status": "ready" if ready else "unavailable", "checks": checks}, status=200 if ready else 503
    )
