"""Benchmark: the audit ledger v2 on PostgreSQL, against the v1 design in the same run.

    .venv/bin/python bench/audit.py          (or: make bench)

Database: BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/candlefish_bench, which
the script creates when missing (a superuser: it empties the ledger with triggers off). It never
uses DATABASE_URL, so it cannot write into a real ledger. It starts its own OpenBao (the anchor
store, and the backend of the slow change) and the sequencer as `manage.py run_sequencer`, the
way production runs it. DEBUG is off, as in production.

1. Writers: 16 processes (like 16 Celery workers) each commit BENCH_AUDIT_CHANGES (500) audited
   changes, one entry per transaction. Baseline: the same work in the v1 design, every writer
   taking the global chain lock and reading the head inside its transaction (what v1's record()
   did). Goals: v2 >= 3,000 entries/s; afterwards every entry linked, sequence 1..N without a
   gap, full verification clean; sequencer lag (linked_at - created_at) p95 <= 1 s. Reference
   (not a goal): the ceiling, the same rows from 16 processes through psycopg alone, one
   autocommit INSERT each (no Django, one round trip and one durable commit per entry), which
   no transaction-per-entry writer can beat on this machine; its CPU per entry beside v2's says
   what part of v2's cost is the database's.
2. Slow backend: an inventory edit whose OpenBao call takes 2 s (a proxy delays the PATCH) runs
   while another user logs in (django.contrib.auth.login: session, axes, last_login, the audited
   `auth.login.succeeded` entry). 50 logins, each started while a change waits on OpenBao.
   The edits run in a process of their own, as another worker would (in the login's process
   their CPU work between two backend calls held the GIL, and a login straddling it measured
   that rather than the backend call). Delay = p95(login during the change) - p50(login
   alone). Baseline: BENCH_V1_TRIES (5) logins
   in the v1 shape (the change holds the chain lock across the backend call, as
   do_update_metadata did). Goal: v2 delay p95 <= 100 ms.
3. Verification: BENCH_AUDIT_ENTRIES (1,000,000) linked entries written with COPY (then VACUUM
   ANALYZE, as autovacuum leaves an insert-only table); a full verification, then 10,000 more and
   an incremental one (from the anchor). Timed around the whole verify() call, which includes
   reading the anchor from OpenBao, comparing it, and writing the new one. Baseline in the same
   run, just before: the same full verification in one pass (one process, the split turned off;
   it reads and compares the anchor but records and writes nothing). Goals: full <= 15 s, last
   10k <= 0.5 s. Each reports CPU seconds: this process, its forked half, and this process's
   PostgreSQL backend (the child's backend is not counted).

BENCH_AUDIT_PARTS (default 1,2,3) runs only the parts named, e.g. BENCH_AUDIT_PARTS=3 for the
verification alone; `make bench` runs all three, and only a run of all three can pass.

The machine may be shared: the RESULT also holds the load average before and after, and the
CPU time per entry of the writer phase (writers + their PostgreSQL backends), which moves less
with noise than wall-clock rates. The last line printed is `RESULT {json}`.
"""

import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench" / "support"))
import audit_logins  # noqa: E402 (bench/support, after the path is set)
import audit_verify  # noqa: E402

from bench.support import stack  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/candlefish_bench"
URL = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
ENTRIES = int(os.environ.get("BENCH_AUDIT_ENTRIES", "1000000"))
CHANGES = int(os.environ.get("BENCH_AUDIT_CHANGES", "500"))
V1_TRIES = int(os.environ.get("BENCH_V1_TRIES", "5"))
PARTS = {part.strip() for part in os.environ.get("BENCH_AUDIT_PARTS", "1,2,3").split(",")}
WRITERS, LOGINS, TAIL, BACKEND_DELAY = 16, 50, 10_000, 2.0
GOALS = {
    "writers_entries_per_s": 3000,
    "sequencer_lag_p95_s": 1.0,
    "login_delay_p95_ms": 100,
    "full_verify_s": 15.0,
    "incremental_10k_s": 0.5,
}
ACTION = "bench.change.made"
SEQUENCER = "bench-audit-sequencer"  # its application_name, to find its backend


def setup_django(openbao) -> dict:
    """Point settings at the bench database and OpenBao; returns the environment for children."""
    env = stack.environment(
        {
            "DATABASE_URL": URL,
            "DJANGO_SETTINGS_MODULE": "console.settings",
            "LOG_LEVEL": "WARNING",
            "DEBUG": "false",
            "VAULT_ADDR": openbao.url,
            "VAULT_TOKEN": openbao.token,
            "AUDIT_ANCHOR": "vault:audit-anchors/bench",
            "AUDIT_UNLINKED_ALERT_AFTER": "300",
        },
        drop=("DATABASE_", "VAULT_", "AUDIT_"),
    )
    stack.setup_django(env, vault=True)
    from secrets_admin.audit import actions

    actions.register(ACTION, "Benchmark change")
    return env


def empty_ledger() -> None:
    """TRUNCATE as a superuser with triggers off: the bench database only."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(
            "TRUNCATE audit_auditentry, audit_auditcheckpoint, audit_auditanchor, audit_breakacknowledgement,"
            " audit_intent RESTART IDENTITY CASCADE"
        )


def loadavg() -> float:
    return stack.load_average()[0]


# --- 1. writers ---------------------------------------------------------------------------------


def _writer(n: int, mode: str, start, results) -> None:
    """One writer process: CHANGES transactions, one entry each; reports its own and its
    backend's CPU seconds. `mode` "v2" is record() in transaction.atomic(), "v1" the same after
    v1's lock and head read, "ceiling" the same rows (record()'s checks and hashes included)
    sent by psycopg alone, one autocommit INSERT each: one round trip and one durable commit
    per entry, the least a transaction per entry can cost, whatever the Python above it."""
    from django.db import connection, transaction

    from secrets_admin.audit import sequencer, services

    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    cpu_before = (time.process_time(), stack.cpu_seconds(backend))
    start.wait()
    if mode == "ceiling":
        raw = connection.connection
        raw.autocommit = True
        cursor, sql = raw.cursor(), services._INSERT + " RETURNING id"
        for i in range(CHANGES):
            row = services._row(ACTION, f"writer:{n}", None, {"i": i, "writer": n, "mode": mode}, None)
            cursor.execute(sql, services._pg_values(row))
            cursor.fetchone()
    else:
        for i in range(CHANGES):
            with transaction.atomic():
                if mode == "v1":  # v1's record(): the global lock until commit, then the head read
                    with connection.cursor() as cursor:
                        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [sequencer.CHAIN_LOCK_KEY])
                        cursor.execute(
                            "SELECT sequence, hash FROM audit_auditentry ORDER BY sequence DESC LIMIT 1"
                        )
                services.record(ACTION, actor=f"writer:{n}", data={"i": i, "writer": n, "mode": mode})
    results.put((time.process_time() - cpu_before[0], stack.cpu_seconds(backend) - cpu_before[1]))
    connection.close()


def run_writers(mode: str) -> dict:
    from django.db import connections

    connections.close_all()  # children must not share the parent's connection
    context = multiprocessing.get_context("fork")
    start, results = context.Event(), context.Queue()
    workers = [context.Process(target=_writer, args=(n, mode, start, results)) for n in range(WRITERS)]
    for worker in workers:
        worker.start()
    time.sleep(1.0)  # every child connected
    began = time.perf_counter()
    start.set()
    cpu = [results.get(timeout=600) for _ in workers]
    seconds = time.perf_counter() - began
    for worker in workers:
        worker.join(60)
    entries = WRITERS * CHANGES
    return {
        "entries": entries,
        "seconds": round(seconds, 2),
        "entries_per_s": round(entries / seconds, 1),
        "cpu_us_per_entry": round(sum(a + b for a, b in cpu) / entries * 1e6, 1),
        "writer_cpu_us_per_entry": round(sum(a for a, _ in cpu) / entries * 1e6, 1),
        "load": loadavg(),
    }


def sequencer_seconds(pid: int) -> float:
    """CPU seconds of the sequencer process and of its PostgreSQL backend (by application_name)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s", [SEQUENCER])
        found = cursor.fetchone()
    return stack.cpu_seconds(pid) + (stack.cpu_seconds(found[0]) if found else 0.0)


def wait_linked(timeout: float = 120) -> None:
    from secrets_admin.audit.models import AuditEntry

    deadline = time.monotonic() + timeout
    while AuditEntry.objects.pending().exists():
        if time.monotonic() > deadline:
            raise RuntimeError("the sequencer did not link every entry in time")
        time.sleep(0.2)


def chain_facts() -> dict:
    from django.db import connection

    from secrets_admin.audit.verification import verify

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), min(sequence), max(sequence), count(sequence) FROM audit_auditentry")
        total, low, high, linked = cursor.fetchone()
        cursor.execute(
            "SELECT percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM linked_at - created_at)),"
            " max(extract(epoch FROM linked_at - created_at)) FROM audit_auditentry"
            " WHERE action = %s AND data->>'mode' = 'v2'",
            [ACTION],
        )
        lag_p95, lag_max = cursor.fetchone()
    outcome = verify(full=True)
    return {
        "gapless": total == linked == high and low == 1,
        "verify_ok": outcome.ok and outcome.entries == total,
        "lag_p95_s": round(float(lag_p95), 3),
        "lag_max_s": round(float(lag_max), 3),
    }


def main() -> int:
    try:
        stack.ensure_database(URL)
    except Exception as exc:  # no PostgreSQL here: say so in the RESULT line rather than a traceback
        missing = {
            "bench": "audit",
            "ok": False,
            "error": f"MISSING: PostgreSQL at {stack.redacted(URL)}: {exc}",
        }
        print("RESULT " + json.dumps(missing, sort_keys=True), flush=True)
        return 1
    result = {"bench": "audit", "database": stack.database_name(URL), "load_before": loadavg()}
    with tempfile.TemporaryDirectory(prefix="bench-audit-") as folder:
        openbao = stack.start_openbao(folder)
        sequencer_process = proxy = None
        try:
            env = setup_django(openbao)
            empty_ledger()
            if PARTS & {"1", "2"}:
                named = f"{URL}{'&' if '?' in URL else '?'}application_name={SEQUENCER}"
                sequencer_process = subprocess.Popen(
                    [sys.executable, "manage.py", "run_sequencer"],
                    cwd=ROOT,
                    env={**env, "DATABASE_URL": named},
                    stdin=subprocess.DEVNULL,
                )
            if "1" in PARTS:
                result["writers_v1"] = run_writers("v1")
                print(f"v1 writers: {result['writers_v1']}", flush=True)
                sequencer_cpu = sequencer_seconds(sequencer_process.pid)
                result["writers"] = run_writers("v2")
                wait_linked()
                # The sequencer's share of the two cores while it linked v2's entries (process + backend).
                sequencer_cpu = sequencer_seconds(sequencer_process.pid) - sequencer_cpu
                per_entry = sequencer_cpu / (WRITERS * CHANGES) * 1e6
                result["writers"]["sequencer_cpu_us_per_entry"] = round(per_entry, 1)
                print(f"v2 writers: {result['writers']}", flush=True)
                result["chain"] = chain_facts()
                print(f"chain after the writers: {result['chain']}", flush=True)
                # After v2's lag and chain were measured, so the reference cannot delay v2's links.
                result["writers_ceiling"] = run_writers("ceiling")
                print(f"psycopg alone (ceiling): {result['writers_ceiling']}", flush=True)

            if "2" in PARTS:
                proxy, secret, people, login_user = audit_logins.setup(openbao, delay=BACKEND_DELAY)
                result["login"] = audit_logins.delays(
                    proxy, secret, people, login_user, tries=LOGINS, v1_tries=V1_TRIES
                )
                print(f"logins beside a 2 s backend call: {result['login']}", flush=True)

            if sequencer_process:
                sequencer_process.terminate()
                sequencer_process.wait(30)
            if "3" in PARTS:
                audit_verify.run(result, entries=ENTRIES, tail=TAIL, empty_ledger=empty_ledger)
        finally:
            if sequencer_process and sequencer_process.poll() is None:
                sequencer_process.terminate()
                sequencer_process.wait(30)
            if proxy:
                proxy.stop()
            openbao.stop()
    result["entries"] = ENTRIES
    result["load_after"] = loadavg()
    result["goals"] = GOALS
    result["parts"] = sorted(PARTS)
    result["pass"], result["ratios"] = {}, {}
    if "1" in PARTS:
        result["pass"]["writers_entries_per_s"] = (
            result["writers"]["entries_per_s"] >= GOALS["writers_entries_per_s"]
            and result["chain"]["gapless"]
            and result["chain"]["verify_ok"]
        )
        result["pass"]["sequencer_lag_p95_s"] = result["chain"]["lag_p95_s"] <= GOALS["sequencer_lag_p95_s"]
        result["ratios"]["writers_v2_over_v1"] = round(
            result["writers"]["entries_per_s"] / result["writers_v1"]["entries_per_s"], 2
        )
        result["ratios"]["writers_v2_over_ceiling"] = round(
            result["writers"]["entries_per_s"] / result["writers_ceiling"]["entries_per_s"], 2
        )
    if "2" in PARTS:
        login = result["login"]
        result["pass"]["login_delay_p95_ms"] = (
            login["login_delay_p95_ms"] is not None
            and login["logins_during"] == LOGINS
            and login["login_delay_p95_ms"] <= GOALS["login_delay_p95_ms"]
        )
        result["ratios"]["login_delay_v1_over_v2"] = round(
            login["v1_login_delay_p95_ms"] / max(login["login_delay_p95_ms"] or 0, 1.0), 1
        )
    if "3" in PARTS:
        result["pass"]["full_verify_s"] = (
            result["full_verify_ok"]
            and result["full_verify_one_pass_ok"]
            and result["full_verify_s"] <= GOALS["full_verify_s"]
        )
        result["pass"]["incremental_10k_s"] = (
            result["incremental_ok"] and result["incremental_10k_s"] <= GOALS["incremental_10k_s"]
        )
        result["ratios"]["full_verify_one_pass_over_split"] = round(
            result["full_verify_one_pass_s"] / result["full_verify_s"], 2
        )
    result["pass"]["all_parts_ran"] = PARTS >= {"1", "2", "3"}
    result["ok"] = all(result["pass"].values())
    print("RESULT " + json.dumps(result, sort_keys=True), flush=True)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
