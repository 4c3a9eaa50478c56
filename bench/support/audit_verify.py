"""Part 3 of bench/audit.py: a million linked entries written with COPY, verified in full (one
pass, then split across two processes) and then from the anchor after 10,000 more; each timed
around the whole verify() with its CPU seconds. Not a benchmark of its own."""

import json
import time
from datetime import UTC, datetime, timedelta

from bench.support import stack


def entry_rows(start: int, count: int, prev_hash: str, first_time: datetime):
    """Yield COPY rows of `count` linked entries after `start`, with varied content."""
    from secrets_admin.audit import chain

    verbs = ("auth.login.succeeded", "inventory.secret.updated", "breakglass.approved", "audit.exported")
    for offset in range(count):
        sequence = start + offset + 1
        created = first_time + timedelta(milliseconds=sequence)
        content = (
            created,
            f"user{sequence % 50}",
            verbs[sequence % len(verbs)],
            "inventory.secret",
            str(sequence % 5000),
            f"vault:secret/app{sequence % 5000}/db",
            f"{sequence:032x}",
            f"10.0.{(sequence >> 8) % 256}.{sequence % 256}",
            {"i": sequence, "fields": ["owner", "team"], "note": "bench"},
        )
        digest = chain.content_hash(*content)
        linked = chain.link_hash(sequence, prev_hash, digest)
        yield (sequence, sequence, *content[:-1], json.dumps(content[-1]), digest, prev_hash, linked, created)
        prev_hash = linked


def insert(start: int, count: int) -> None:
    """COPY `count` linked entries after entry `start` (triggers off: they are pre-linked)."""
    from django.db import connection, transaction

    from secrets_admin.audit import chain

    with connection.cursor() as cursor:
        cursor.execute("SELECT hash, created_at FROM audit_auditentry WHERE sequence = %s", [start])
        head = cursor.fetchone()
    prev_hash, first_time = head if head else (chain.GENESIS, datetime(2026, 1, 1, tzinfo=UTC))
    columns = ("id", "sequence", *chain.CONTENT, "content_hash", "prev_hash", "hash", "linked_at")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        with cursor.cursor.copy(f"COPY audit_auditentry ({', '.join(columns)}) FROM STDIN") as copy:
            for row in entry_rows(start, count, prev_hash, first_time):
                copy.write_row(row)
        cursor.execute("SELECT setval(pg_get_serial_sequence('audit_auditentry', 'id'), %s)", [start + count])


def timed_verify(full: bool, **options):
    """verify() timed whole, with CPU seconds: this process, its forked children (the split's
    second half) and this process's PostgreSQL backend."""
    import resource

    from django.db import connection

    from secrets_admin.audit.verification import verify

    connection.ensure_connection()
    backend = connection.connection.info.backend_pid

    def children() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    cpu = (time.process_time(), children(), stack.cpu_seconds(backend))
    started = time.perf_counter()
    outcome = verify(full=full, **options)
    seconds = round(time.perf_counter() - started, 3)
    spent = (time.process_time() - cpu[0], children() - cpu[1], stack.cpu_seconds(backend) - cpu[2])
    outcome.cpu = {
        "process_s": round(spent[0], 2),
        "child_s": round(spent[1], 2),
        "backend_s": round(spent[2], 2),
        "load": stack.load_average()[0],
    }
    return outcome, seconds


def run(result: dict, *, entries: int, tail: int, empty_ledger) -> None:
    """A full verification of `entries` (one pass, then split), then `tail` more from the anchor;
    the figures go into `result`."""
    from django.conf import settings
    from django.db import connection

    from secrets_admin.audit import scan

    empty_ledger()
    settings.AUDIT_ANCHOR = "vault:audit-anchors/bench-verify"  # a new ledger, its own anchor
    started = time.perf_counter()
    insert(0, entries)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE audit_auditentry")
    result["insert_s"] = round(time.perf_counter() - started, 2)

    split_at = scan.PARALLEL_MIN
    scan.PARALLEL_MIN = 10**12  # the baseline: one pass, nothing recorded or anchored
    try:
        one, seconds = timed_verify(full=True, record_clean=False, write_anchor=False)
    finally:
        scan.PARALLEL_MIN = split_at
    result["full_verify_one_pass_s"] = seconds
    result["full_verify_one_pass_ok"] = one.ok and one.entries == entries
    result["full_verify_one_pass_cpu"] = one.cpu
    print(f"full verification, one pass: {result['full_verify_one_pass_s']} s, {one.cpu}", flush=True)

    full, result["full_verify_s"] = timed_verify(full=True)
    result["full_verify_ok"] = full.ok and full.entries == entries and full.extra.get("anchored") is True
    result["full_verify_cpu"] = full.cpu
    result["full_verify_split"] = entries >= scan.PARALLEL_MIN
    print(
        f"full verification: {full.entries} entries in {result['full_verify_s']} s, ok={full.ok}, {full.cpu}",
        flush=True,
    )
    insert(entries, tail)
    incremental, result["incremental_10k_s"] = timed_verify(full=False)
    result["incremental_ok"] = (
        incremental.ok and incremental.entries == tail and incremental.extra.get("anchored") is True
    )
    result["incremental_cpu"] = incremental.cpu
    print(
        f"incremental: {incremental.entries} entries in {result['incremental_10k_s']} s, {incremental.cpu}",
        flush=True,
    )
