"""Liveness and readiness.

/healthz answers while the process lives. /readyz runs every probe named in
settings.READINESS_PROBES (dotted paths, so backends register without console importing them)
and answers 503 when one fails. It tells the world only "ready" or "not ready" and the names of
what is failing; timings and error text go to the log and to signed-in members of
READINESS_DETAIL_GROUP, because error text names hosts, mounts and token problems.

Probes run in parallel, each bounded by READINESS_TIMEOUT, and the result is cached in Redis
for READINESS_CACHE_SECONDS: a burst of probes, or a page that shows backend state, costs one
round of backend calls every few seconds, and nothing waits longer than the timeout. Each probe
has one thread of its own: a probe that hangs is not started again while it still runs (a dead
backend cannot pile up threads), its SDK client stays warm between rounds, and an answer that
comes after the timeout still replaces the "no answer" in the cache.

Those members also see what settings.READINESS_DETAILS report: state worth seeing that never
makes the console unready (the audit ledger's chain, anchor and sequencer lag).
"""

import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor, wait

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.utils.module_loading import import_string
from django.views.decorators.cache import never_cache

from console.second_factor import past_second_factor

log = logging.getLogger(__name__)

CACHE_KEY = "console:readiness"
_threads: dict[str, ThreadPoolExecutor] = {}
_running: dict[str, Future] = {}
_lock = threading.Lock()


def probe_database():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    finally:
        connection.close()  # this probe runs on a pool thread: leave no connection behind


def probe_redis():
    import redis

    timeout = settings.READINESS_TIMEOUT
    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        client.ping()
    finally:
        client.close()


def run_probe(dotted: str) -> dict:
    started = time.monotonic()
    try:
        import_string(dotted)()
    except Exception as exc:  # a probe reports any failure; it never raises out of /readyz
        state = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    else:
        state = {"ok": True}
    state["ms"] = round((time.monotonic() - started) * 1000, 1)
    return state


def check_now() -> dict:
    """{name: {"ok": bool, "ms": float, "error"?: str}}, every probe bounded by the timeout."""
    timeout = settings.READINESS_TIMEOUT
    with _lock:
        futures = {}
        for name, dotted in settings.READINESS_PROBES.items():
            future = _running.get(name)
            if future is None or future.done():
                thread = _threads.setdefault(name, ThreadPoolExecutor(1, thread_name_prefix=f"probe-{name}"))
                future = _running[name] = thread.submit(run_probe, dotted)
                future.add_done_callback(lambda done, name=name: _late_answer(name, done))
            futures[name] = future
    done, _ = wait(futures.values(), timeout=timeout)
    results = {}
    for name, future in futures.items():
        if future in done:
            results[name] = future.result()
        else:
            results[name] = {"ok": False, "ms": timeout * 1000, "error": f"no answer within {timeout} s"}
        if not results[name]["ok"]:
            log.warning("readiness: %s is not ready: %s", name, results[name]["error"])
    return results


def _late_answer(name: str, future: Future) -> None:
    """A probe that finished after its round gave up on it: put its answer in the cached result."""
    try:
        cached = cache.get(CACHE_KEY)
        if cached is not None and cached.get(name, {}).get("error", "").startswith("no answer within"):
            cached[name] = future.result()
            cache.set(CACHE_KEY, cached, timeout=settings.READINESS_CACHE_SECONDS)
    except Exception:
        log.debug("readiness: could not record a late answer", exc_info=True)


def readiness() -> dict:
    """The probes' results, at most READINESS_CACHE_SECONDS old."""
    try:
        cached = cache.get(CACHE_KEY)
    except Exception:  # Redis is down: probe directly (its probe will say so)
        cached = None
    if cached is not None:
        return cached
    results = check_now()
    try:
        cache.set(CACHE_KEY, results, timeout=settings.READINESS_CACHE_SECONDS)
    except Exception:
        log.debug("readiness: could not cache the result", exc_info=True)
    return results


def cached_readiness() -> dict | None:
    """The last result if one is cached, without calling any backend (None otherwise)."""
    try:
        return cache.get(CACHE_KEY)
    except Exception:
        return None


def may_see_details(request) -> bool:
    """Signed in, past the second factor, and in READINESS_DETAIL_GROUP."""
    user = getattr(request, "user", None)
    if not past_second_factor(user, getattr(request, "session", None)):
        return False
    return user.groups.filter(name=settings.READINESS_DETAIL_GROUP).exists()


def details() -> dict:
    """{name: dict} from every callable in settings.READINESS_DETAILS (on this thread)."""
    found = {}
    for name, dotted in getattr(settings, "READINESS_DETAILS", {}).items():
        try:
            found[name] = import_string(dotted)()
        except Exception as exc:  # detail is best effort; it never fails /readyz
            found[name] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
    return found


@never_cache
def healthz(request):
    return JsonResponse({"status": "alive"})


@never_cache
def readyz(request):
    checks = readiness()
    failing = sorted(name for name, check in checks.items() if not check["ok"])
    body = {"status": "not ready" if failing else "ready"}
    if failing:
        body["failing"] = failing
    if may_see_details(request):
        body["checks"] = checks
        body["detail"] = details()
    return JsonResponse(body, status=503 if failing else 200)
