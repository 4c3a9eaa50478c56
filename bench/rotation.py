"""Benchmark: 1,000 KV v2 secrets rotated by the engine (real Celery worker processes, audit on,
PostgreSQL) against a raw hvac loop making the same OpenBao calls, on the same OpenBao, in one
run: A/B/A/B at 1 and at 4 worker processes (the raw loop gets as many threads).

    .venv/bin/python bench/rotation.py          (or: make bench)

Database: BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/candlefish_bench_rotation,
dropped and created fresh (DATABASE_URL is never used). OpenBao and Valkey are started by the
script on free ports. Each round rotates its own 1,000 fresh secrets (BENCH_ROTATION_SECRETS);
BENCH_ROTATION_WORKERS (default 1,4) and BENCH_ROTATION_PAIRS (default 2) say how many rounds.

The same work on both sides: every secret is an api_key in KV v2 without a rotation hook, so the
engine rotates it blue-green as a plain value, and bench/support/rotation_raw.py makes exactly the
OpenBao calls that path makes (read the current version; write the staging metadata and value;
read it back; promote by check-and-set with the run marker; mark the old version; drop the
staging), with a fresh generated value per secret. The engine adds what the raw loop lacks: the
run rows, leases, step log, audit entries, the queue, the worker processes.

How the two sides match: the engine's worker processes (prefork, -c N) each make one backend call
at a time, as each of the raw loop's N threads does; both talk to the same OpenBao, one HTTP
keep-alive session per process or thread, neither taking proxies or .netrc from the environment
(the adapter's default, trust_env off). The engine sends its calls on its own urllib3 pool
(secrets_admin/backends/vault_http.py), the raw loop through plain hvac: the same requests. The
engine starts its runs the way the rotation.schedule beat does (services/chunks.py: `start_runs`
records every run and its `rotation.run.started` entry in one transaction and queues them as
`rotation.advance_chunk` tasks of ROTATION_CHUNK_SIZE runs); a worker records each step of a
chunk's runs in one transaction per lane (ROTATION_CHUNK_LANES, default 1), with one audit entry
per run and step, before that lane's next step's backend calls; with more lanes, one lane's
recording commits on a second connection while the other lane's calls run. BENCH_ROTATION_LANES
(default "1,2") gives the workers' lane counts: an engine round at each in every pair (a fresh
worker each: A1, A2, then B); the goal is judged at the first (the product's default).

For information (not the goal), every pair also runs C: the raw loop's twelve requests sent on
the engine's own client (secrets_admin/backends/vault_http.py, a urllib3 pool) instead of hvac
(bench/support/rotation_raw.py `rotate_on_pool`); RESULT's ratio_engine_over_raw_on_engine_pool
is the engine over C, at the first lane count: the engine's own overhead on equal clients. The
goal stays the issue's: the engine against a raw hvac loop.

Engine time: from start_runs to the last run finished (starting is part of the work: the runs,
their audit entries and the queued tasks). CPU seconds (user+sys) are reported for each round:
the engine's worker processes, the sequencer and this process, or this process for the raw loop,
plus OpenBao's for both (PostgreSQL's own are left out). Checks: every secret of every round
gained exactly one version and its inventory run finished; afterwards the audit chain is linked
and verifies in full. Reported: throughput per round, the ratio engine/raw at each worker count
(mean over the two pairs; per lane count in ratio_by_lanes), p50/p95 of each step's duration.
Goal: ratio >= 0.7 (stretch 0.85). Last line: RESULT {json}.
"""

import json
import os
import secrets as random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.support import stack  # noqa: E402

URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/candlefish_bench_rotation")
SECRETS = int(os.environ.get("BENCH_ROTATION_SECRETS", "1000"))
WORKERS = tuple(int(n) for n in os.environ.get("BENCH_ROTATION_WORKERS", "1,4").split(","))
PAIRS = int(os.environ.get("BENCH_ROTATION_PAIRS", "2"))  # A/B pairs per worker count
# ROTATION_CHUNK_LANES of the engine's workers, each in every pair; the first is the one judged.
LANES = tuple(int(n) for n in os.environ.get("BENCH_ROTATION_LANES", "1,2").split(","))
GOAL, STRETCH = 0.7, 0.85


def make_secrets(bao, prefix: str, n: int) -> list:
    """n KV secrets with one version each, and their inventory rows (api_key, default policy)."""
    import hvac

    from secrets_admin.inventory.models import RotationPolicy, Secret

    def write(i):
        client = hvac.Client(url=bao.url, token=bao.token)
        client.secrets.kv.v2.create_or_update_secret(
            path=f"{prefix}/k{i}", secret={"value": random.token_hex(16)}
        )

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(write, range(n)))
    policy = RotationPolicy.objects.get(kind="api_key", is_default=True)
    rows = [
        Secret(
            backend="vault",
            path=f"secret/{prefix}/k{i}",
            name=f"k{i}",
            kind="api_key",
            rotation_policy=policy,
        )
        for i in range(n)
    ]
    return Secret.objects.bulk_create(rows)


def versions(bao, prefix: str, n: int) -> list[int]:
    import hvac

    def current(i):
        client = hvac.Client(url=bao.url, token=bao.token)
        return client.secrets.kv.v2.read_secret_metadata(path=f"{prefix}/k{i}")["data"]["current_version"]

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(current, range(n)))


def start_worker(env: dict, processes: int, log: Path) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "console",
        "worker",
        "-Q",
        "console",
        "-c",
        str(processes),
    ]
    command += [
        "--pool",
        "prefork",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "-l",
        "WARNING",
    ]
    name = f"bench-{uuid.uuid4().hex[:6]}"
    command += ["-n", f"{name}@%h"]
    out = open(log, "ab")  # noqa: SIM115 (closed with the process)
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    wait_ready(name, processes)
    return process


def wait_ready(name: str, processes: int) -> None:
    """Start-up is not what we measure: wait until the worker answers a ping (its pool's
    processes are forked by then), then a moment for them to settle."""
    from console.celery import app

    deadline = time.monotonic() + 180
    while not any(name in reply_from for reply in app.control.ping(timeout=1) for reply_from in reply):
        if time.monotonic() > deadline:
            raise RuntimeError(f"worker {name} did not start within 180 s")
    time.sleep(1 + processes / 2)


def cpu_seconds(*pids: int) -> float:
    """user+sys CPU seconds of these processes and their live children (prefork's pool)."""
    total, tick = 0.0, os.sysconf("SC_CLK_TCK")
    wanted = set(pids)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry.name) in wanted or int(fields[1]) in wanted:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def engine_round(bao, prefix: str, pids: list[int]) -> dict:
    from secrets_admin.rotation.models import RotationRun
    from secrets_admin.rotation.services.chunks import start_runs

    secrets = make_secrets(bao, prefix, SECRETS)
    parts = {"workers": pids[0], "sequencer": pids[1], "openbao": bao.pid}
    before = {name: cpu_seconds(pid) for name, pid in parts.items()} | {"bench": time.process_time()}
    started = time.monotonic()
    runs, refused = start_runs(secrets, actor="bench", reason="cli")
    runs = [run.pk for run in runs]
    # This round's runs are the only ones in their id range: a cheap poll (this process shares
    # the machine's CPU with the workers; a 1,000-id IN list ten times a second did not).
    mine = RotationRun.objects.filter(pk__gte=min(runs), pk__lte=max(runs), state__in=RotationRun.ACTIVE)
    while mine.exists():
        time.sleep(0.1)
    seconds = time.monotonic() - started
    after = {name: cpu_seconds(pid) for name, pid in parts.items()} | {"bench": time.process_time()}
    split = {name: round(after[name] - before[name], 2) for name in after}
    cpu = sum(split.values())
    finished = RotationRun.objects.filter(pk__in=runs, state="finished").count()
    counts = versions(bao, prefix, SECRETS)
    every_one = counts == [2] * SECRETS and refused == {"refused": 0, "busy": 0}
    return {"seconds": seconds, "per_s": SECRETS / seconds, "finished": finished, "cpu_s": cpu,
            "cpu_split_s": split, "one_new_version_each": every_one}  # fmt: skip


def raw_round(bao, prefix: str, threads: int, *, on_pool: bool = False) -> dict:
    from bench.support.rotation_raw import rotate, rotate_on_pool

    rotate = rotate_on_pool if on_pool else rotate

    make_secrets(bao, prefix, SECRETS)
    values = [random.token_urlsafe(32) for _ in range(SECRETS)]
    openbao, bench = cpu_seconds(bao.pid), time.process_time()
    started = time.monotonic()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda i: rotate(bao.url, bao.token, f"{prefix}/k{i}", values[i]), range(SECRETS)))
    seconds = time.monotonic() - started
    openbao = cpu_seconds(bao.pid) - openbao
    bench = time.process_time() - bench
    counts = versions(bao, prefix, SECRETS)
    return {"seconds": seconds, "per_s": SECRETS / seconds, "cpu_s": openbao + bench,
            "cpu_split_s": {"bench": round(bench, 2), "openbao": round(openbao, 2)},
            "one_new_version_each": counts == [2] * SECRETS}  # fmt: skip


def step_percentiles() -> dict:
    from secrets_admin.rotation.models import RotationStep

    out = {}
    for name in ("create", "set", "test", "finish"):
        ms = sorted(RotationStep.objects.filter(name=name, ok=True).values_list("duration_ms", flat=True))
        if ms:
            out[name] = {"p50_ms": ms[len(ms) // 2], "p95_ms": ms[int(len(ms) * 0.95) - 1]}
    return out


def chain_verifies() -> bool:
    from secrets_admin.audit.models import AuditEntry
    from secrets_admin.audit.sequencer import link
    from secrets_admin.audit.verification import verify

    while AuditEntry.objects.pending().exists():
        link()
    total = AuditEntry.objects.count()
    outcome = verify(full=True)
    return outcome.ok and outcome.entries == total


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="bench-rotation-"))
    servers = [stack.start_valkey(work), stack.start_openbao(work)]
    try:
        valkey, bao = servers
        stack.fresh_database(URL, force=True)
        env = {
            **os.environ, "DJANGO_SETTINGS_MODULE": "console.settings", "DATABASE_URL": URL,
            "REDIS_URL": valkey.url, "VAULT_ADDR": bao.url, "VAULT_TOKEN": bao.token, "DEBUG": "false",
            "LOG_LEVEL": "WARNING", "AUDIT_ANCHOR": "off",
        }  # fmt: skip
        stack.setup_django(env, vault=True)
        # The ledger's sequencer, as `make run` and compose run it (writers also link after commit).
        log = open(work / "sequencer.log", "ab")  # noqa: SIM115 (closed with the process)
        sequencer = subprocess.Popen([sys.executable, "manage.py", "run_sequencer"], cwd=ROOT, env=env,
                                     stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
        rounds, ratios, checks, pool_ratios = [], {str(lanes): {} for lanes in LANES}, [], {}
        for processes in WORKERS:
            pairs, on_pool = {lanes: [] for lanes in LANES}, []
            for i in range(PAIRS):  # A/B/A/B (A: the engine at each lane count in turn)
                engine = {}
                for lanes in LANES:
                    logfile = work / f"worker-{processes}-{lanes}.log"
                    worker = start_worker({**env, "ROTATION_CHUNK_LANES": str(lanes)}, processes, logfile)
                    try:
                        prefix = f"e{processes}-{lanes}-{i}"
                        engine[lanes] = engine_round(bao, prefix, [worker.pid, sequencer.pid])
                    finally:
                        worker.terminate()
                        worker.wait(60)
                b = raw_round(bao, f"r{processes}-{i}", processes)
                c = raw_round(bao, f"p{processes}-{i}", processes, on_pool=True)  # information
                for lanes, a in engine.items():
                    rounds.append({"workers": processes, "kind": "engine", "lanes": lanes, **_round(a)})
                    checks += [a["finished"] == SECRETS, a["one_new_version_each"]]
                    pairs[lanes].append(a["per_s"] / b["per_s"])
                    if lanes == LANES[0]:
                        on_pool.append(a["per_s"] / c["per_s"])
                rounds.append({"workers": processes, "kind": "raw", **_round(b)})
                rounds.append({"workers": processes, "kind": "raw_on_engine_pool", **_round(c)})
                checks += [b["one_new_version_each"], c["one_new_version_each"]]
                shown = " ".join(f"engine(lanes={n}) {a['per_s']:.0f}/s" for n, a in engine.items())
                shown += f" raw {b['per_s']:.0f}/s raw-on-pool {c['per_s']:.0f}/s"
                print(f"workers={processes} {shown}", flush=True)
            for lanes, values in pairs.items():
                ratios[str(lanes)][str(processes)] = round(statistics.mean(values), 3)
            pool_ratios[str(processes)] = round(statistics.mean(on_pool), 3)
        sequencer.terminate()
        sequencer.wait(30)
        chain_ok = chain_verifies()
        main_ratios = ratios[str(LANES[0])]  # the goal is judged at the first lane count
        worst = min(main_ratios.values())
        result = {
            "secrets_per_round": SECRETS,
            "pairs": PAIRS,
            "lanes": LANES[0],
            "rounds": rounds,
            "ratio_engine_over_raw": main_ratios,
            "ratio_by_lanes": ratios,
            # Information, not the goal: against the same twelve requests on the engine's own
            # urllib3 pool (the engine's overhead on equal clients), at the first lane count.
            "ratio_engine_over_raw_on_engine_pool": pool_ratios,
            "steps": step_percentiles(),
            "every_secret_one_new_version": all(checks),
            "chain_verifies": chain_ok,
            "load_average": stack.load_average(),
            "goal": {"ratio": GOAL, "pass": worst >= GOAL and all(checks) and chain_ok},
            "stretch": {"ratio": STRETCH, "pass": worst >= STRETCH},
        }
        print("RESULT " + json.dumps(result))
        return 0
    finally:
        for server in reversed(servers):
            server.stop()


def _round(facts: dict) -> dict:
    return {"seconds": round(facts["seconds"], 2), "per_s": round(facts["per_s"], 1),
            "cpu_s": round(facts["cpu_s"], 2), "cpu_split_s": facts["cpu_split_s"],
            "load_1min": round(os.getloadavg()[0], 2)}  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
