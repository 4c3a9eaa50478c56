"""Audit services: `record()` writes an entry; `raise_chain_alert()` is the ledger's one alert hook.

Call `record()` inside the transaction of the change it describes. It takes no lock: it inserts
the entry with its content hash, and the sequencer (secrets_admin.audit.sequencer) links it into
the chain once the transaction has committed (the `run_sequencer` process; writers do no
linking, so an audited change costs one INSERT and nothing after its commit). Verification lives
in secrets_admin.audit.verification, anchoring in secrets_admin.audit.anchors.
"""

import functools
import logging

from django.db import connections, router
from django.db.models import signals
from django.db.models.base import ModelState
from django.utils import timezone

from console.middleware import current_request_id
from secrets_admin.audit import actions, chain, wire
from secrets_admin.audit.models import AuditEntry

log = logging.getLogger(__name__)

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


def record(action: str, *, actor, target=None, data: dict | None = None, request=None) -> AuditEntry:
    """Write one entry to the ledger and return it (not linked yet: `sequence` is None until the
    sequencer links it, usually within a fraction of a second after the commit).

    Must run inside the caller's transaction.atomic() (raises NotInTransaction otherwise), so
    the entry commits or rolls back with the change it describes. Raises ValueError for an
    unregistered action or data that is not a JSON-safe dict (or carries a key such as
    "password" that may only hold a secret), TypeError for a target that is not a saved model.
    """
    alias, connection = _write_alias("record")
    row = _row(action, actor, target, data, request)
    return _entry(row, _insert(connection, row), alias)


def record_many(items, *, actor) -> list[AuditEntry]:
    """record() for many changes made in one transaction by one actor (the rotation engine's
    chunks): `items` is [(action, target, data)], written in that order with one INSERT
    statement on PostgreSQL. Same checks and errors as record(); every entry or none."""
    alias, connection = _write_alias("record_many")
    rows = [_row(action, actor, target, data, None) for action, target, data in items]
    if not rows:
        return []
    if connection.vendor == "postgresql":
        ids = _insert_many(connection, rows)
    else:
        ids = [_insert(connection, row) for row in rows]
    return [_entry(row, pk, alias) for row, pk in zip(rows, ids, strict=True)]


def _write_alias(name: str) -> tuple:
    alias = router.db_for_write(AuditEntry)
    connection = connections[alias]
    if not connection.in_atomic_block:
        raise NotInTransaction(f"audit.{name}() must be called inside the change's transaction.atomic()")
    return alias, connection


def _row(action: str, actor, target, data, request) -> tuple:
    """(content, data_text, user, digest, created_text) of one entry, every check done before
    anything is written."""
    if not actions.is_registered(action):
        raise ValueError(f"audit action {action!r} is not registered (secrets_admin/audit/actions.py)")
    user, actor_name = _actor(actor)
    target_type, target_id, target_repr = _target(target)
    payload = chain.normalise_data(data)
    leaked = _forbidden_key(payload)
    if leaked:
        raise ValueError(f"audit data must never hold secret values (key {leaked!r})")
    now = timezone.now()
    content = (
        now,
        actor_name,
        action,
        target_type,
        target_id,
        target_repr,
        _request_id(request),
        _client_ip(request),
        payload,
    )
    # The canonical JSON of `data` is written once: it is hashed and it is what PostgreSQL stores.
    data_text = chain.encode_data(payload)
    created_text = chain.format_time(now)  # hashed, and what PostgreSQL is sent
    digest = chain.content_hash(created_text, *content[1:], data_text=data_text)
    return content, data_text, user, digest, created_text


def _entry(row: tuple, pk: int, alias: str) -> AuditEntry:
    content, _, user, digest, _ = row
    values = (pk, None, content[0], user.pk if user else None, *content[1:], digest, "", "", None)
    if signals.pre_init.has_listeners(AuditEntry) or signals.post_init.has_listeners(AuditEntry):
        entry = AuditEntry(*values)  # positional values in field order, as from_db() builds one
    else:
        # What Model.__init__ leaves for these values, without its per-field setattr loop (a
        # tenth of a writer's Python): the attributes in __dict__ and a fresh state.
        entry = AuditEntry.__new__(AuditEntry)
        entry._state = ModelState()
        entry.__dict__.update(zip(_attnames(), values, strict=True))
    if user is not None:
        entry.actor = user  # cached: callers may read entry.actor without a query
    entry._state.adding, entry._state.db = False, alias
    return entry


@functools.cache
def _attnames() -> tuple:
    return tuple(field.attname for field in AuditEntry._meta.concrete_fields)


# One INSERT per entry, without the ORM's save() machinery (it doubled a writer's CPU time). On
# PostgreSQL the values go as text (`data` as its canonical JSON); elsewhere the fields prepare
# them, so each database gets what Django would send.
_COLUMNS = (*chain.CONTENT, "actor_id", "content_hash")
_PLACEHOLDERS = f"({', '.join(['%s::jsonb' if c == 'data' else '%s' for c in _COLUMNS])}, '', '')"
_INSERT = (
    f"INSERT INTO audit_auditentry ({', '.join(_COLUMNS)}, prev_hash, hash) "  # noqa: S608 (constant column names)
    f"VALUES {_PLACEHOLDERS}"
)
_INSERT_ORM = _INSERT.replace("%s::jsonb", "%s")


def _pg_values(row: tuple) -> list:
    content, data_text, user, digest, _ = row
    return [*content[:-1], data_text, user.pk if user else None, digest]


def _insert(connection, row: tuple) -> int:
    if connection.vendor == "postgresql":
        return wire.insert(connection, [_wire_values(row)], _INSERT + " RETURNING id", _pg_values(row))[0]
    returning = connection.features.can_return_columns_from_insert
    with connection.cursor() as cursor:
        content, _, user, digest, _ = row
        fields = [AuditEntry._meta.get_field(name) for name in _COLUMNS]
        values = (*content, user.pk if user else None, digest)
        prepared = [field.get_db_prep_save(v, connection) for field, v in zip(fields, values, strict=True)]
        cursor.execute(_INSERT_ORM + (" RETURNING id" if returning else ""), prepared)
        return cursor.fetchone()[0] if returning else cursor.lastrowid


_MANY = 5000  # rows per statement: PostgreSQL takes at most 65,535 parameters in one


def _insert_many(connection, rows: list[tuple]) -> list[int]:
    """One PostgreSQL INSERT per 5,000 entries; ids in the order given (one statement's ids come
    from one sequence, in VALUES order, and the statements run one after another)."""
    ids = []
    for start in range(0, len(rows), _MANY):
        chunk = rows[start : start + _MANY]
        sql = _INSERT.replace(f"VALUES {_PLACEHOLDERS}", "VALUES " + ", ".join([_PLACEHOLDERS] * len(chunk)))
        params = [v for row in chunk for v in _pg_values(row)]
        wire_rows = [_wire_values(row) for row in chunk]
        ids += sorted(wire.insert(connection, wire_rows, sql + " RETURNING id", params))
    return ids


def _wire_values(row: tuple) -> list:
    """The row's values as PostgreSQL's text input (UTF-8), in _COLUMNS order."""
    content, data_text, user, digest, created_text = row
    _, *texts, _ = content
    return [
        created_text.encode(),
        *[text.encode() for text in texts],
        data_text.encode(),
        None if user is None else str(user.pk).encode(),
        digest.encode(),
    ]


def raise_chain_alert(outcome: chain.Outcome) -> None:
    """The ledger's one alert hook: every ledger alarm goes through here.

    `outcome.kind` says which: a break ("altered", "link", "missing", "cut", "anchor"; with
    `broken_at`, `problem`, `expected`, `found`), "anchor_stale" (the chain head has not been
    written outside the database in time; `problem` says since when and why, `extra` holds
    `age_seconds` (None if never) and `where`) or "unlinked" (an entry has waited for the
    sequencer too long; `extra` holds `pending` and `oldest_seconds`). Callers have already
    de-duplicated (a break once per hour per fingerprint, the others once per episode). It must
    not append to the ledger (a broken chain cannot vouch for a new entry) and must not raise.

    The alarm is this CRITICAL log line, the banner every page shows the security team
    (secrets_admin.audit.context_processors), and a critical alert through the alert channels.
    """
    log.critical(
        "AUDIT LEDGER ALERT (%s)%s: %s",
        outcome.kind or "break",
        f" at #{outcome.broken_at}" if outcome.broken_at is not None else "",
        outcome.problem,
    )
    from secrets_admin.alerts import audit_chain  # alerts depends on the ledger, not the reverse

    extra = outcome.extra or {}
    if outcome.kind == "anchor_stale":
        audit_chain.anchor_stale(age_seconds=extra.get("age_seconds"), where=str(extra.get("where", "")))
    elif outcome.kind == "unlinked":
        audit_chain.entries_unlinked(
            pending=extra.get("pending", 0), oldest_seconds=extra.get("oldest_seconds", 0)
        )
    else:
        audit_chain.chain_broken(outcome)


def clear_chain_alert(kind: str) -> None:
    """The other half of raise_chain_alert(): the alarm of `kind` is over — "break" (the last open
    break was acknowledged), "anchor_stale" (an anchor was written again) or "unlinked" (no entry
    waits too long any more). Called once after each raised episode; resolves the alert; must
    not raise."""
    log.info("audit ledger alarm over (%s)", kind)
    from secrets_admin.alerts import audit_chain

    {"break": audit_chain.chain_intact, "anchor_stale": audit_chain.anchor_fresh}.get(
        kind, audit_chain.entries_linked
    )()
