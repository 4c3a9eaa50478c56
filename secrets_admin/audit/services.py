"""Audit services: `record()` appends an entry to the chain; `verify()` checks the chain.

Call `record()` inside the transaction of the change it describes, preferably as its last
statement: it takes the chain lock, which is held until that transaction ends.
"""

import contextlib
import logging
import queue
import threading
import time

from django.db import connections, router
from django.utils import timezone

from console.middleware import current_request_id
from secrets_admin.audit import actions, chain
from secrets_admin.audit.models import AuditCheckpoint, AuditEntry

log = logging.getLogger(__name__)

# Key of the PostgreSQL transaction-level advisory lock that serialises writers of the chain
# ("CFAU" as a 32-bit number). SQLite needs none: the console opens every transaction with
# BEGIN IMMEDIATE (settings: transaction_mode), which already admits one writer at a time.
CHAIN_LOCK_KEY = 0x43464155
SYSTEM = "system"
FORBIDDEN_DATA_KEYS = frozenset({"password", "secret_value", "client_token", "otp_code", "secret_id"})


class NotInTransaction(RuntimeError):
    """record() was called outside transaction.atomic(): the entry could outlive a failed change."""


def _actor(actor):
    """(user or None, copied name) for a User, AnonymousUser, None (system) or a string."""
    if actor is None:
        return None, SYSTEM
    if isinstance(actor, str):
        if not actor.strip():
            raise ValueError("a string actor must name the system actor, e.g. 'celery:sync'")
        return None, _text(actor.strip(), 150)
    if not getattr(actor, "is_authenticated", False):
        return None, "anonymous"
    return actor, _text(actor.get_username(), 150)


def actor_name(actor) -> str:
    """The name the ledger copies for `actor` (a User, None for the system, or a system-actor
    string); other run records use it so they name people the way the ledger does."""
    return _actor(actor)[1]


def _target(target):
    if target is None:
        return "", "", ""
    meta = getattr(target, "_meta", None)
    if meta is None or target.pk is None:
        raise TypeError("audit target must be a saved model instance or None")
    return meta.label_lower, _text(str(target.pk), 64), _text(str(target), 200)


def _forbidden_key(value) -> str | None:
    """The first key, at any depth, that names something only a secret value would fill."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in FORBIDDEN_DATA_KEYS:
                return key
            if found := _forbidden_key(item):
                return found
    elif isinstance(value, list):
        for item in value:
            if found := _forbidden_key(item):
                return found
    return None


def _text(value: str, limit: int) -> str:
    # PostgreSQL refuses NUL in text; a repr or user name carrying one must not fail the change.
    return value.replace("\x00", "")[:limit]


def _client_ip(request) -> str:
    from console.client_ip import client_ip  # the one reading of X-Forwarded-For (TRUSTED_PROXIES)

    return client_ip(request)


def _request_id(request) -> str:
    value = getattr(request, "id", None) if request is not None else None
    value = value or current_request_id()
    return "" if value == "-" else str(value)[:64]


def _lock_chain(connection):
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])
    elif connection.vendor != "sqlite":
        raise NotImplementedError(f"the audit chain lock is not implemented for {connection.vendor}")


def record(action: str, *, actor, target=None, data: dict | None = None, request=None) -> AuditEntry:
    """Append one entry to the ledger and return it.

    Must run inside the caller's transaction.atomic() (raises NotInTransaction otherwise), so
    the entry commits or rolls back with the change it describes. Raises ValueError for an
    unregistered action or data that is not a JSON-safe dict (or carries a key such as
    "password" that may only hold a secret), TypeError for a target that is not a saved model.
    """
    if not actions.is_registered(action):
        raise ValueError(f"audit action {action!r} is not registered (secrets_admin/audit/actions.py)")
    alias = router.db_for_write(AuditEntry)
    connection = connections[alias]
    if not connection.in_atomic_block:
        raise NotInTransaction("audit.record() must be called inside the change's transaction.atomic()")
    user, actor_name = _actor(actor)
    target_type, target_id, target_repr = _target(target)
    payload = chain.normalise_data(data)
    leaked = _forbidden_key(payload)
    if leaked:
        raise ValueError(f"audit data must never hold secret values (key {leaked!r})")

    _lock_chain(connection)
    head = AuditEntry.objects.using(alias).order_by("-sequence").values_list("sequence", "hash").first()
    sequence, prev_hash = (head[0] + 1, head[1]) if head else (1, chain.GENESIS)
    entry = AuditEntry(
        sequence=sequence,
        created_at=timezone.now(),  # taken under the lock, so time never runs backwards along the chain
        actor=user,
        actor_name=actor_name,
        action=action,
        target_type=target_type,
        target_id=target_id,
        target_repr=target_repr,
        request_id=_request_id(request),
        ip=_client_ip(request),
        data=payload,
        prev_hash=prev_hash,
    )
    entry.hash = chain.entry_hash(*(getattr(entry, name) for name in chain.FIELDS[:-1]))
    entry._sealed = True
    entry.save(using=alias)
    return entry


# --- verification ------------------------------------------------------------------------------

CHUNK = 5000


# PostgreSQL fast path: the server formats the time exactly like chain.format_time and sends
# jsonb as text, so no Python datetime parsing per row (halves a full verification's time).
_PG_ROWS = """
SELECT sequence, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), actor_name,
       action, target_type, target_id, target_repr, request_id, ip, data::text, prev_hash, hash
FROM audit_auditentry WHERE sequence > %s ORDER BY sequence
"""


def _rows(alias, after: int):
    """Stream entries after `after` in chain order (FIELDS order), CHUNK rows at a time."""
    connection = connections[alias]
    if connection.vendor != "postgresql":
        yield from (
            AuditEntry.objects.using(alias)
            .filter(sequence__gt=after)
            .order_by("sequence")
            .values_list(*chain.FIELDS)
            .iterator(chunk_size=CHUNK)
        )
        return
    connection.ensure_connection()
    with connection.chunked_cursor() as cursor:  # a server-side (named) cursor
        cursor.execute(_PG_ROWS, [after])
        yield from _prefetched(cursor.cursor.fetchmany)


def _prefetched(fetchmany):
    """Rows of `fetchmany(CHUNK)` calls, the next chunk fetched by a helper thread while this one
    hashes the current chunk (psycopg lets go of the GIL while it waits for PostgreSQL), so
    database time and hashing time overlap. The helper stops when the consumer stops early."""
    chunks = queue.Queue(maxsize=2)
    stop = threading.Event()

    def produce():
        try:
            while not stop.is_set():
                rows = fetchmany(CHUNK)
                chunks.put(rows)
                if not rows:
                    return
        except BaseException as exc:  # handed to the consumer, raised there
            chunks.put(exc)

    helper = threading.Thread(target=produce, name="audit-verify-fetch", daemon=True)
    helper.start()
    try:
        while rows := chunks.get():
            if isinstance(rows, BaseException):
                raise rows
            yield from rows
    finally:
        stop.set()
        while helper.is_alive():  # unblock a helper waiting on a full queue, then let it end
            with contextlib.suppress(queue.Empty):
                chunks.get_nowait()
            helper.join(0.05)


def last_checkpoint(alias="default") -> AuditCheckpoint | None:
    """The newest verification that found the chain intact (where incremental runs start)."""
    return AuditCheckpoint.objects.using(alias).filter(ok=True).order_by("-created_at", "-id").first()


def chain_status(alias="default") -> AuditCheckpoint | None:
    """The newest verification of any outcome: what the audit page's badge shows."""
    return AuditCheckpoint.objects.using(alias).order_by("-created_at", "-id").first()


def _check_start(alias, checkpoint) -> chain.Outcome | None:
    """An incremental run trusts the checkpoint only if its entry is still there, unchanged."""
    if checkpoint.sequence == 0:
        return None
    entries = AuditEntry.objects.using(alias)
    row = entries.filter(sequence=checkpoint.sequence).values_list(*chain.FIELDS).first()
    if row is None:
        head = entries.order_by("-sequence").values_list("sequence", flat=True).first() or 0
        problem = f"entries from #{head + 1} are gone (the last checkpoint had #{checkpoint.sequence})"
        return chain.Outcome().fail(head + 1, problem)
    before = chain.verify_rows([row], after=checkpoint.sequence - 1, prev_hash=row[10])
    if not before.ok:
        return before
    if row[11] != checkpoint.hash:
        return chain.Outcome().fail(
            checkpoint.sequence,
            f"entry #{checkpoint.sequence} differs from the last checkpoint",
            checkpoint.hash,
            row[11],
        )
    return None


def verify(*, full: bool = False, alias: str = "default", save: bool = True) -> chain.Outcome:
    """Verify the chain from the start (`full`) or from the last good checkpoint, and store the
    outcome as a new AuditCheckpoint (unless `save` is False). A break is logged at CRITICAL
    and handed to `raise_chain_alert()`. Returns the outcome; never raises for a broken chain."""
    started = time.monotonic()
    checkpoint = None if full else last_checkpoint(alias)
    after, prev_hash = (checkpoint.sequence, checkpoint.hash) if checkpoint else (0, chain.GENESIS)
    outcome = _check_start(alias, checkpoint) if checkpoint else None
    if outcome is None:
        rows = _rows(alias, after)
        try:
            outcome = chain.verify_rows(rows, after=after, prev_hash=prev_hash)
        finally:
            rows.close()  # stops the fetch helper and closes the cursor at once, also at a break
    seconds = round(time.monotonic() - started, 3)
    outcome.extra = {"full": checkpoint is None, "from": after + 1, "seconds": seconds}
    if save:
        _save_checkpoint(alias, outcome, full=checkpoint is None, after=after)
    if not outcome.ok:
        log.critical(
            "audit chain broken at #%s: %s (expected %s, found %s)",
            outcome.broken_at,
            outcome.problem,
            outcome.expected or "-",
            outcome.found or "-",
        )
        raise_chain_alert(outcome)
    return outcome


def _save_checkpoint(alias, outcome: chain.Outcome, *, full: bool, after: int):
    AuditCheckpoint.objects.using(alias).create(
        full=full,
        ok=outcome.ok,
        sequence=outcome.last,
        hash=outcome.last_hash,
        checked_from=after + 1,
        entries=outcome.entries,
        duration_ms=int(outcome.extra["seconds"] * 1000),
        broken_at=outcome.broken_at,
        problem=outcome.problem,
    )


def raise_chain_alert(outcome: chain.Outcome) -> None:
    """Hook for the alerting issue: send a CRITICAL alert that the audit chain is broken.

    Called once per verification that finds a break, after the CRITICAL log line, with the
    outcome (`broken_at`, `problem`, `expected`, `found`). It must not append to the audit
    ledger (a broken chain cannot vouch for a new entry) and must not raise. Until alerting
    exists the log line is the alert.
    """
