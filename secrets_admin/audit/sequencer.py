"""The sequencer: links committed entries into the chain, once, in the order it saw them commit.

Writers insert entries with their content hash and no chain position, without any lock. The
sequencer runs `link()` in a loop (`manage.py run_sequencer`, a process of its own; beat's
`audit.sequence` task is the backstop). Writers do no linking at all: an audited change costs
its one INSERT and nothing after its commit. The loop polls (a look at the partial index of
unlinked entries every AUDIT_SEQUENCER_INTERVAL_MS) rather than being woken by NOTIFY, because
PostgreSQL serialises the commits of every transaction that sent a NOTIFY (a server-wide lock
held through the commit's WAL flush), which would cost concurrent writers their group commit.
The loop's work per entry is small (a hash, and its row in one UPDATE per batch), so a process
that sleeps most of the time is scheduled promptly even on a busy machine. One link batch is
one short transaction:

1. take the chain lock (a PostgreSQL transaction-level advisory lock; on SQLite the console's
   BEGIN IMMEDIATE already admits one writer), so one sequencer links at a time;
2. read the head (highest sequence and its hash) and up to `batch` entries with no sequence,
   lowest insert id first;
3. give them head+1, head+2, ... with prev_hash and hash, in one UPDATE that only touches rows
   still unlinked (the trigger allows no other change), and commit.

Why this is race-free: the chain order is defined as the order the sequencer *saw* entries
committed, not insert-id order. Step 2 runs under READ COMMITTED (set explicitly: under
REPEATABLE READ the head would be read from a snapshot older than the lock wait), so each of its
statements sees exactly the entries committed before it started; an entry whose transaction is
still open (even with a lower id) is invisible and is linked by a later batch, after everything
linked now. Nothing is ever linked past a gap, because there are no gaps to skip: sequence
numbers are given here, not taken from the id. Causality is kept: if entry A committed before
entry B was inserted, then A's id is lower and any batch that sees B also sees A, so A gets the
lower sequence. The lock is granted only after the previous batch committed, so step 2 always
reads the newest head.
A sequencer killed mid-batch loses its transaction, so nothing of that batch was linked; the
next run links those entries exactly once (the partial UPDATE and the unique sequence see to
that).
"""

import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC

from django.conf import settings
from django.db import DatabaseError, connections, transaction
from django.utils import timezone

from secrets_admin.audit import chain

log = logging.getLogger(__name__)

# Key of the PostgreSQL advisory lock that lets one sequencer link at a time ("CFAU").
CHAIN_LOCK_KEY = 0x43464155
BATCH = 5000
# Seconds between looks while entries keep arriving. A batch costs about the same whatever its
# size (seven round trips: BEGIN, isolation, lock, head, queue, UPDATE, COMMIT; ~2 ms of CPU with
# its backend): at 3,000 entries/s, looks every 20 ms made batches of ~60 at ~55 us of CPU per
# entry, every 100 ms ~300 at ~27 us, for ~0.1 s more lag (goal: p95 <= 1 s).
BUSY_INTERVAL = 0.1


@dataclass
class Lag:
    """How far the sequencer is behind: entries waiting (capped count) and the oldest one's age."""

    pending: int
    oldest_id: int | None
    oldest_seconds: float | None

    @property
    def stuck(self) -> bool:
        return (self.oldest_seconds or 0) > settings.AUDIT_UNLINKED_ALERT_AFTER


def _lock(connection, *, outermost: bool, wait: bool = True) -> bool:
    """Take the chain lock for this transaction; with wait=False give up at once (False) if
    another sequencer holds it."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            if outermost:  # each statement must see what committed before it (see above)
                cursor.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
            if not wait:
                cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])
                return cursor.fetchone()[0]
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])
    elif connection.vendor != "sqlite":
        raise NotImplementedError(f"the audit sequencer does not support {connection.vendor}")
    return True


def _write(cursor, vendor: str, links: list[tuple], now) -> int:
    """Set the chain columns of `links` [(id, sequence, prev_hash, hash)]; returns rows changed."""
    if vendor == "postgresql":
        # One statement for the whole batch, its values as four arrays: four parameters to adapt
        # instead of four per entry (a batch of 5,000 spent more time quoting than updating).
        ids, sequences, prevs, digests = (list(column) for column in zip(*links, strict=True))
        cursor.execute(
            "UPDATE audit_auditentry AS e"
            " SET sequence = v.seq, prev_hash = v.prev, hash = v.hash, linked_at = %s"
            " FROM unnest(%s::bigint[], %s::bigint[], %s::text[], %s::text[]) AS v(id, seq, prev, hash)"
            " WHERE e.id = v.id AND e.sequence IS NULL",
            [now, ids, sequences, prevs, digests],
        )
        return cursor.rowcount
    changed = 0
    for id_, sequence, prev, digest in links:
        cursor.execute(
            "UPDATE audit_auditentry SET sequence = %s, prev_hash = %s, hash = %s, linked_at = %s "
            "WHERE id = %s AND sequence IS NULL",
            [sequence, prev, digest, now, id_],
        )
        changed += cursor.rowcount
    return changed


def link_batch(*, alias: str = "default", batch: int = BATCH, wait: bool = True) -> int:
    """Link up to `batch` committed entries in one short transaction; returns how many (0 at
    once, with wait=False, when another sequencer is linking)."""
    connection = connections[alias]
    outermost = not connection.in_atomic_block
    with transaction.atomic(using=alias):
        if not _lock(connection, outermost=outermost, wait=wait):
            return 0
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT sequence, hash FROM audit_auditentry"
                " WHERE sequence IS NOT NULL ORDER BY sequence DESC LIMIT 1"
            )
            sequence, prev = cursor.fetchone() or (0, chain.GENESIS)
            cursor.execute(
                "SELECT id, content_hash FROM audit_auditentry WHERE sequence IS NULL ORDER BY id LIMIT %s",
                [batch],
            )
            waiting = cursor.fetchall()
            if not waiting:
                return 0
            links = []
            for id_, content in waiting:
                sequence += 1
                digest = chain.link_hash(sequence, prev, content)
                links.append((id_, sequence, prev, digest))
                prev = digest
            changed = _write(cursor, connection.vendor, links, timezone.now())
            if changed != len(links):  # cannot happen under the lock; never commit a partial batch
                raise DatabaseError(f"linked {changed} of {len(links)} entries; batch rolled back")
    return len(links)


def link(*, alias: str = "default", batch: int = BATCH) -> int:
    """Link every committed entry that is waiting, batch after batch; returns how many."""
    total = 0
    while True:
        linked = link_batch(alias=alias, batch=batch)
        total += linked
        if linked < batch:
            return total


def has_pending(alias: str = "default") -> bool:
    """A cheap read (the partial index of unlinked entries), so an idle loop never locks."""
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT 1 FROM audit_auditentry WHERE sequence IS NULL LIMIT 1")
        return cursor.fetchone() is not None


def lag(alias: str = "default", *, cap: int = 10_000) -> Lag:
    """Entries waiting for the sequencer (counted up to `cap`) and the oldest one's age."""
    with connections[alias].cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM (SELECT 1 FROM audit_auditentry WHERE sequence IS NULL LIMIT %s) AS w",
            [cap],
        )
        pending = cursor.fetchone()[0]
        cursor.execute(
            "SELECT id, created_at FROM audit_auditentry WHERE sequence IS NULL ORDER BY id LIMIT 1"
        )
        oldest = cursor.fetchone()
    if not oldest:
        return Lag(pending, None, None)
    created = oldest[1]
    if isinstance(created, str):  # SQLite through a raw cursor
        from django.utils.dateparse import parse_datetime

        created = parse_datetime(created)
    if timezone.is_naive(created):
        created = created.replace(tzinfo=UTC)
    return Lag(pending, oldest[0], max(0.0, (timezone.now() - created).total_seconds()))


def watch(alias: str = "default") -> Lag:
    """Raise the chain alert (once per episode) when an entry has waited longer than
    AUDIT_UNLINKED_ALERT_AFTER seconds for the sequencer. Returns the lag it saw."""
    from secrets_admin.audit import alerting

    seen = lag(alias)
    if seen.stuck:
        problem = (
            f"entry id {seen.oldest_id} has waited {seen.oldest_seconds:.0f} s for the sequencer "
            f"({seen.pending} entries unlinked); is `manage.py run_sequencer` running?"
        )
        outcome = chain.Outcome(ok=False, kind="unlinked", problem=problem)
        outcome.extra = {"pending": seen.pending, "oldest_seconds": seen.oldest_seconds}
        alerting.alert("unlinked", problem, episode=str(seen.oldest_id), outcome=outcome)
    else:
        alerting.clear("unlinked")
    return seen


def run(
    *, alias: str = "default", interval: float | None = None, stop: threading.Event | None = None
) -> None:
    """The sequencer loop: watch, link, sleep `interval` seconds (AUDIT_SEQUENCER_INTERVAL_MS;
    BUSY_INTERVAL after a look that linked something), until `stop` is set. Database errors are
    logged and retried with a growing pause; the connection is reopened after one."""
    stop = stop or threading.Event()
    interval = settings.AUDIT_SEQUENCER_INTERVAL_MS / 1000 if interval is None else interval
    pause, last_watch, linked = interval, 0.0, 0
    log.info("audit sequencer started (every %.2f s, batches of %d)", interval, BATCH)
    while not stop.is_set():
        try:
            if time.monotonic() - last_watch >= 5:
                watch(alias)
                last_watch = time.monotonic()
            # After a look that linked something, more is likely waiting: link at once rather
            # than ask first (one round trip less per batch under load).
            linked = link(alias=alias) if linked or has_pending(alias) else 0
            if linked:
                log.debug("linked %d audit entries", linked)
            # While writers are busy, look again soon: an entry's lag is the wait for the next
            # look plus one batch (BUSY_INTERVAL says why not sooner).
            pause = min(interval, BUSY_INTERVAL) if linked else interval
        except DatabaseError as exc:
            log.error("audit sequencer: %s; retrying in %.1f s", exc, pause)
            connections[alias].close()
            pause = min(max(pause * 2, 0.5), 10.0)
        stop.wait(pause)
    connections[alias].close()
    log.info("audit sequencer stopped")
