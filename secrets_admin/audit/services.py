"""Audit services: `record()` writes an entry; `raise_chain_alert()` is the ledger's one alert hook.

Call `record()` inside the transaction of the change it describes. It takes no lock: it inserts
the entry with its content hash, and the sequencer (secrets_admin.audit.sequencer) links it into
the chain once the transaction has committed — often the writer itself, right after its commit,
when no other sequencer is busy (AUDIT_LINK_ON_COMMIT). Verification lives in
secrets_admin.audit.verification, anchoring in secrets_admin.audit.anchors.
"""

import logging
from functools import partial

from django.db import connections, router, transaction
from django.utils import timezone

from console.middleware import current_request_id
from secrets_admin.audit import actions, chain, sequencer
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
    alias = router.db_for_write(AuditEntry)
    if not connections[alias].in_atomic_block:
        raise NotInTransaction("audit.record() must be called inside the change's transaction.atomic()")
    entry = _entry(action, actor, target, data, request)
    entry.pk = _insert(connections[alias], entry)
    entry._state.adding, entry._state.db = False, alias
    transaction.on_commit(partial(sequencer.help_link, alias), using=alias)
    return entry


def record_many(items, *, actor) -> list[AuditEntry]:
    """record() for many changes made in one transaction by one actor (the rotation engine's
    chunks): `items` is [(action, target, data)], written in that order with one INSERT
    statement. Same checks and errors as record(); every entry or none."""
    alias = router.db_for_write(AuditEntry)
    if not connections[alias].in_atomic_block:
        raise NotInTransaction("audit.record_many() must be called inside the change's transaction.atomic()")
    entries = [_entry(action, actor, target, data, None) for action, target, data in items]
    if not entries:
        return entries
    for entry, pk in zip(entries, _insert_many(connections[alias], entries), strict=True):
        entry.pk = pk
        entry._state.adding, entry._state.db = False, alias
    transaction.on_commit(partial(sequencer.help_link, alias), using=alias)
    return entries


def _entry(action: str, actor, target, data, request) -> AuditEntry:
    if not actions.is_registered(action):
        raise ValueError(f"audit action {action!r} is not registered (secrets_admin/audit/actions.py)")
    user, actor_name = _actor(actor)
    target_type, target_id, target_repr = _target(target)
    payload = chain.normalise_data(data)
    leaked = _forbidden_key(payload)
    if leaked:
        raise ValueError(f"audit data must never hold secret values (key {leaked!r})")
    entry = AuditEntry(
        created_at=timezone.now(),
        actor=user,
        actor_name=actor_name,
        action=action,
        target_type=target_type,
        target_id=target_id,
        target_repr=target_repr,
        request_id=_request_id(request),
        ip=_client_ip(request),
        data=payload,
    )
    entry.content_hash = chain.content_hash(*entry.content())
    return entry


# One INSERT per entry, without the ORM's save() machinery (it doubled a writer's CPU time);
# the fields still prepare their own values, so each database gets what Django would send.
_COLUMNS = (*chain.CONTENT, "actor_id", "content_hash")
_INSERT = (
    f"INSERT INTO audit_auditentry ({', '.join(_COLUMNS)}, prev_hash, hash) "  # noqa: S608 (constant column names)
    f"VALUES ({', '.join(['%s'] * len(_COLUMNS))}, '', '')"
)


def _values(connection, entry: AuditEntry) -> list:
    fields = [AuditEntry._meta.get_field(name) for name in _COLUMNS]
    return [field.get_db_prep_save(getattr(entry, field.attname), connection) for field in fields]


def _insert_many(connection, entries: list[AuditEntry]) -> list[int]:
    """One INSERT for many entries (ids in the order given); one by one where RETURNING is missing."""
    if not connection.features.can_return_columns_from_insert:  # pragma: no cover - SQLite before 3.35
        return [_insert(connection, entry) for entry in entries]
    row = f"({', '.join(['%s'] * len(_COLUMNS))}, '', '')"
    sql = _INSERT.split(" VALUES ")[0] + " VALUES " + ", ".join([row] * len(entries)) + " RETURNING id"
    with connection.cursor() as cursor:
        cursor.execute(sql, [value for entry in entries for value in _values(connection, entry)])
        ids = [found[0] for found in cursor.fetchall()]
    return sorted(ids)  # one statement's ids come from one sequence, in VALUES order


def _insert(connection, entry: AuditEntry) -> int:
    values = _values(connection, entry)
    with connection.cursor() as cursor:
        if connection.features.can_return_columns_from_insert:
            cursor.execute(_INSERT + " RETURNING id", values)
            return cursor.fetchone()[0]
        cursor.execute(_INSERT, values)  # pragma: no cover - SQLite before 3.35
        return cursor.lastrowid


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
