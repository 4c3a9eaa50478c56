"""Benchmark: verify a 1M-entry audit chain on PostgreSQL.

    .venv/bin/python bench/audit.py          (or: make bench)

Database: BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/candlefish_bench, which
the script creates when missing. It never uses DATABASE_URL, so it cannot write a million fake
entries into a real ledger. Each run migrates, empties the audit tables (TRUNCATE; the trigger
guards rows, not the table), inserts BENCH_AUDIT_ENTRIES (default 1,000,000) chained entries with
COPY, then times a full verification and an incremental one over 10,000 newer entries.

Goals (issue #3): full chain <= 15 s, incremental last 10k <= 0.5 s. The last line printed is
`RESULT {json}` with timings, goals and pass/fail per goal.
"""

import json
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/candlefish_bench"
URL = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
ENTRIES = int(os.environ.get("BENCH_AUDIT_ENTRIES", "1000000"))
TAIL = 10_000
GOALS = {"full_verify_s": 15.0, "incremental_10k_s": 0.5}


def ensure_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}@{host}:{parts.port or 5432}"))


def setup_django() -> None:
    os.environ["DATABASE_URL"] = URL
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def entry_rows(start: int, count: int, prev_hash: str, first_time: datetime):
    """Yield (row, hash) for `count` chained entries after `start`, with varied content."""
    from secrets_admin.audit import chain

    actions = ("auth.login.succeeded", "inventory.secret.updated", "breakglass.approved", "audit.exported")
    for offset in range(count):
        sequence = start + offset + 1
        created = first_time + timedelta(milliseconds=sequence)
        actor_name = f"user{sequence % 50}"
        action = actions[sequence % len(actions)]
        target_type, target_id = "inventory.secret", str(sequence % 5000)
        target_repr = f"vault:secret/app{sequence % 5000}/db"
        request_id = f"{sequence:032x}"
        ip = f"10.0.{(sequence >> 8) % 256}.{sequence % 256}"
        data = {"i": sequence, "fields": ["owner", "team"], "note": "bench"}
        digest = chain.entry_hash(
            sequence,
            created,
            actor_name,
            action,
            target_type,
            target_id,
            target_repr,
            request_id,
            ip,
            data,
            prev_hash,
        )
        yield (
            sequence,
            created,
            None,
            actor_name,
            action,
            target_type,
            target_id,
            target_repr,
            request_id,
            ip,
            json.dumps(data),
            prev_hash,
            digest,
        )
        prev_hash = digest


def insert(start: int, count: int) -> str:
    """COPY `count` chained entries after entry `start`; returns the new head hash."""
    from django.db import connection, transaction

    from secrets_admin.audit import chain

    with connection.cursor() as cursor:
        cursor.execute("SELECT hash, created_at FROM audit_auditentry WHERE sequence = %s", [start])
        head = cursor.fetchone()
    prev_hash, first_time = head if head else (chain.GENESIS, datetime(2026, 1, 1, tzinfo=UTC))
    last = prev_hash
    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor, for COPY
        # The hashed fields in chain order, plus actor_id (NULL here), as entry_rows() yields them.
        columns = (*chain.FIELDS[:2], "actor_id", *chain.FIELDS[2:])
        with raw.copy(f"COPY audit_auditentry ({', '.join(columns)}) FROM STDIN") as copy:
            for row in entry_rows(start, count, prev_hash, first_time):
                copy.write_row(row)
                last = row[-1]
    return last


def time_records(count: int = 1000) -> float:
    """Entries per second through services.record(), one transaction each."""
    from django.db import transaction

    from secrets_admin.audit import actions, services

    actions.register("bench.record.timed", "Benchmark entry")
    started = time.perf_counter()
    for i in range(count):
        with transaction.atomic():
            services.record("bench.record.timed", actor="bench", data={"i": i})
    return count / (time.perf_counter() - started)


def main() -> int:
    try:
        ensure_database(URL)
    except Exception as exc:  # no PostgreSQL here: say so in the RESULT line rather than a traceback
        missing = {"bench": "audit", "ok": False, "error": f"MISSING: PostgreSQL at {_redacted(URL)}: {exc}"}
        print("RESULT " + json.dumps(missing, sort_keys=True), flush=True)
        return 1
    setup_django()
    from django.db import connection

    from secrets_admin.audit import services

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE audit_auditentry, audit_auditcheckpoint")
    result = {"bench": "audit", "database": urlsplit(URL).path.lstrip("/"), "entries": ENTRIES}

    started = time.perf_counter()
    insert(0, ENTRIES)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE audit_auditentry")
    result["insert_s"] = round(time.perf_counter() - started, 2)
    print(f"inserted {ENTRIES} chained entries in {result['insert_s']} s", flush=True)

    full = services.verify(full=True)
    result["full_verify_s"] = full.extra["seconds"]
    result["full_verify_ok"] = full.ok and full.entries == ENTRIES
    print(f"full verification: {full.entries} entries in {full.extra['seconds']} s, ok={full.ok}", flush=True)

    insert(ENTRIES, TAIL)
    incremental = services.verify()
    result["incremental_10k_s"] = incremental.extra["seconds"]
    result["incremental_ok"] = incremental.ok and incremental.entries == TAIL
    print(f"incremental: {incremental.entries} entries in {incremental.extra['seconds']} s", flush=True)

    result["record_per_s"] = round(time_records(), 1)
    result["verify_after_records_ok"] = services.verify().ok
    result["goals"] = GOALS
    result["pass"] = {
        "full_verify_s": result["full_verify_ok"] and result["full_verify_s"] <= GOALS["full_verify_s"],
        "incremental_10k_s": result["incremental_ok"]
        and result["incremental_10k_s"] <= GOALS["incremental_10k_s"],
    }
    result["ok"] = all(result["pass"].values()) and result["verify_after_records_ok"]
    print("RESULT " + json.dumps(result, sort_keys=True), flush=True)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
