"""Part of bench/inventory.py: inventory sync of N KV secrets from a real OpenBao against a raw
hvac loop that does the same reads (LIST every folder, read every key's metadata) with the same
number in flight, on the same OpenBao, interleaved round by round so both see the same load.

Rounds: the first sync (every secret new); then, `rounds` times, raw loop and sync of the
unchanged estate in turn; then every secret's custom metadata changed and a sync of the changed
estate, with a raw loop right before it.

The sync of the unchanged estate does every read the raw loop does (and walks, chunks and
records the run); per secret it then digests the backend's answer and, the digest being the
stored one, skips building and comparing the row (services/sync.py), while still recomputing
every seen secret's status in SQL. The changed estate takes the full path for every secret."""

import os
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

TEAMS = 20


def _write_estate(bao, count: int, workers: int) -> None:
    import requests

    http = requests.Session()
    http.headers["X-Vault-Token"] = bao.token

    def write(i):
        key = f"bench/team-{i % TEAMS:02d}/key-{i:05d}"
        http.post(
            f"{bao.url}/v1/secret/data/{key}", json={"data": {"value": os.urandom(16).hex()}}
        ).raise_for_status()
        meta = {"owner": f"team-{i % TEAMS}", "environment": "staging", "kind": "api_key"}
        http.post(f"{bao.url}/v1/secret/metadata/{key}", json={"custom_metadata": meta}).raise_for_status()

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(write, range(count)))


def _change_estate(bao, count: int, workers: int, round_no: int) -> None:
    import requests

    http = requests.Session()
    http.headers["X-Vault-Token"] = bao.token

    def change(i):
        key = f"bench/team-{i % TEAMS:02d}/key-{i:05d}"
        meta = {"owner": f"team-{(i + round_no) % TEAMS}", "environment": "production", "kind": "api_key"}
        http.post(f"{bao.url}/v1/secret/metadata/{key}", json={"custom_metadata": meta}).raise_for_status()

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(change, range(count)))


def raw_loop(bao, workers: int) -> int:
    """What the sync must at least do: LIST the folders, then read each key's metadata, `workers`
    reads in flight, one hvac client per thread (as the adapter has). Returns keys read."""
    import threading

    import hvac

    from secrets_admin.backends.vault import session

    local = threading.local()

    def client():
        if not hasattr(local, "client"):
            # The adapter's HTTP session settings (nothing taken from the environment), so the
            # two sides pay the same per request for that (secrets_admin.backends.vault.session).
            local.client = hvac.Client(url=bao.url, token=bao.token, timeout=30, session=session({}))
        return local.client

    def read(key):
        return client().secrets.kv.v2.read_secret_metadata(path=key, mount_point="secret")["data"]

    keys, pending = [], ["bench/"]
    while pending:
        folder = pending.pop()
        listed = client().secrets.kv.v2.list_secrets(path=folder, mount_point="secret")["data"]["keys"]
        keys += [folder + k for k in listed if not k.endswith("/")]
        pending += [folder + k for k in listed if k.endswith("/")]
    with ThreadPoolExecutor(workers) as pool:
        read_all = list(pool.map(read, keys))
    return len(read_all)


def bench_sync(count: int, *, rounds: int = 3, workers: int = 8) -> dict:
    from django.conf import settings

    from bench.support import stack
    from secrets_admin.inventory.models import Secret, SyncRun
    from secrets_admin.inventory.services.sync import sync_backend

    Secret.objects.filter(backend="benchkv").delete()  # a fresh OpenBao each run: start empty
    SyncRun.objects.filter(backend="benchkv").delete()
    with tempfile.TemporaryDirectory() as tmp:
        bao = stack.start_openbao(tmp)
        try:
            _write_estate(bao, count, workers)
            settings.SECRET_BACKENDS = {
                **settings.SECRET_BACKENDS,
                "benchkv": {
                    **settings.SECRET_BACKENDS["vault"], "url": bao.url, "token": bao.token,
                    "kv_prefix": "bench", "engines": "kv", "workers": workers, "timeout": 30,
                },
            }  # fmt: skip

            def timed_sync(expect_state="succeeded"):
                started = time.perf_counter()
                run = sync_backend("benchkv", actor="bench")
                seconds = time.perf_counter() - started
                assert run.state == expect_state and run.seen == count, (run.state, run.seen, run.error)
                return seconds, run

            def timed_raw():
                started = time.perf_counter()
                assert raw_loop(bao, workers) == count
                return time.perf_counter() - started

            first, run = timed_sync()
            assert run.created == count
            raw, unchanged = [], []
            for _ in range(rounds):
                raw.append(timed_raw())
                seconds, run = timed_sync()
                assert run.changed == 0 and run.created == 0, (run.changed, run.created)
                unchanged.append(seconds)
            changed = []
            for round_no in range(1, 3):
                _change_estate(bao, count, workers, round_no)
                raw.append(timed_raw())
                seconds, run = timed_sync()
                assert run.changed == count, run.changed
                changed.append(seconds)
        finally:
            bao.stop()
    rate = lambda seconds: round(count / seconds, 1)  # noqa: E731
    raw_s, unchanged_s, changed_s = (statistics.median(x) for x in (raw, unchanged, changed))
    out = {
        "secrets": count,
        "workers": workers,
        "raw_loop_per_s": rate(raw_s),
        "first_sync_per_s": rate(first),
        "unchanged_sync_per_s": rate(unchanged_s),
        "changed_sync_per_s": rate(changed_s),
        "unchanged_over_raw": round(raw_s / unchanged_s, 2),
        "changed_over_raw": round(raw_s / changed_s, 2),
        "unchanged_seconds": round(unchanged_s, 2),
        "changed_seconds": round(changed_s, 2),
        "raw_seconds_all": [round(x, 2) for x in raw],
    }
    print("sync: " + str(out), flush=True)
    return out
