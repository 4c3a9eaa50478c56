"""OpenBao audit entries -> the hourly access rollup (metadata only).

Called by the shared audit-file reader (breakglass.services.recording) with each batch's response
entries, inside the batch's transaction: the counts and the file offset commit together, so a
restarted reader neither repeats nor skips a line. The rollup keeps its own mark of how far it
counted each file (`IngestMark`, in the same transaction), so a reader that lost its offset and
reads lines again adds nothing for them. The batch is summed in memory (a few thousand entries
at most) and written with one upsert per table, never one query per request.

What is kept of an entry: its time (to the hour), the request's path and operation, the token's
display name and entity id. Never `request.data`, `response.data` or headers.
"""

from collections import Counter
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.db.models import OuterRef, Subquery

from breakglass.services.recording import entry_time
from secrets_admin.inventory.models import Secret
from secrets_admin.usage.models import DailyAccess, HourlyAccess, IngestMark, LastRead
from secrets_admin.usage.services import daily

# KV v2 splits one secret over several API paths; a value read is `<mount>/data/<key>`, so that
# is the one that counts as a read of the secret `<mount>/<key>`. Metadata reads (the inventory
# sync's own) keep their API path and so never make a secret look used.
KV_VALUE = "data"
NO_TOKEN = "(no token)"


def secret_path(api_path: str) -> str:
    """`secret/data/payments/db` -> `secret/payments/db`; any other path is kept as it is."""
    mount, _, rest = api_path.partition("/")
    kind, _, key = rest.partition("/")
    return f"{mount}/{key}" if kind == KV_VALUE and key else api_path


def hour_of(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def unseen(entries: list[dict], batch) -> list[dict]:
    """The entries of `batch` (recording.Batch) at or after the file's mark; moves the mark to
    the batch's end (never back). Locks the mark until the batch's transaction ends."""
    IngestMark.objects.get_or_create(file=batch.fingerprint, defaults={"path": batch.path[:1024]})
    mark = IngestMark.objects.select_for_update().get(file=batch.fingerprint)
    fresh = [entry for entry, at in zip(entries, batch.offsets, strict=True) if at >= mark.offset]
    mark.offset, mark.path = max(mark.offset, batch.end), batch.path[:1024]
    mark.save(update_fields=["offset", "path", "updated_at"])
    return fresh


def consume(entries: list[dict], batch) -> int:
    """Add a batch of response entries to the rollup, each line at most once (`unseen`).
    Returns how many requests were counted."""
    entries = unseen(entries, batch)
    counts: Counter = Counter()
    last_reads: dict[str, datetime] = {}
    for entry in entries:
        request, auth = entry.get("request") or {}, entry.get("auth") or {}
        api_path = str(request.get("path") or "").strip("/")
        if not api_path:
            continue
        at = entry_time(entry.get("time"))
        path = secret_path(api_path)[:1024]
        operation = str(request.get("operation") or "")[:20]
        identity = str(auth.get("display_name") or NO_TOKEN)[:255]
        entity = str(auth.get("entity_id") or "")[:64]
        counts[(hour_of(at), path, identity, entity, operation)] += 1
        if operation == "read" and (path not in last_reads or at > last_reads[path]):
            last_reads[path] = at
    if counts:
        add_counts(counts)
        note_last_reads(last_reads)
    return sum(counts.values())


def vault_backends() -> list[str]:
    return [name for name, conf in settings.SECRET_BACKENDS.items() if conf.get("kind") == "vault"]


def add_counts(counts: Counter, *, demo: bool = False) -> None:
    """Upsert {(hour, path, identity, entity, operation): n}: an existing row's count grows; the
    daily rollup gets the same counts per day (services.daily)."""
    paths = {key[1] for key in counts}
    known = dict(
        Secret.objects.filter(backend__in=vault_backends(), path__in=paths).values_list("path", "id")
    )
    table = HourlyAccess._meta.db_table
    ops = connection.ops
    rows = [
        (ops.adapt_datetimefield_value(hour), path, known.get(path), identity, entity, operation, n, demo)
        for (hour, path, identity, entity, operation), n in counts.items()
    ]
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 500):
            chunk = rows[start : start + 500]
            values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s)"] * len(chunk))
            cursor.execute(
                f'INSERT INTO {table} (hour, path, secret_id, identity, entity, operation, "count", demo) '  # noqa: S608 (table from the model, values are parameters)
                f"VALUES {values} ON CONFLICT (hour, path, identity, entity, operation, demo) DO UPDATE "
                f'SET "count" = {table}."count" + excluded."count", '
                f"secret_id = COALESCE(excluded.secret_id, {table}.secret_id)",
                [value for row in chunk for value in row],
            )
    daily.add(counts, known, demo=demo)  # the same counts per day, in the caller's transaction


def note_last_reads(last_reads: dict[str, datetime]) -> None:
    """Upsert {path: time}: a path's last read only ever moves forward."""
    if not last_reads:
        return
    table = LastRead._meta.db_table
    rows = [(path, connection.ops.adapt_datetimefield_value(at)) for path, at in last_reads.items()]
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 500):
            chunk = rows[start : start + 500]
            cursor.execute(
                f"INSERT INTO {table} (path, last_read_at) VALUES {', '.join(['(%s, %s)'] * len(chunk))} "  # noqa: S608
                f"ON CONFLICT (path) DO UPDATE SET last_read_at = CASE WHEN excluded.last_read_at > "
                f"{table}.last_read_at THEN excluded.last_read_at ELSE {table}.last_read_at END",
                [value for row in chunk for value in row],
            )


def link_secrets() -> int:
    """Link rollup rows whose path became a known secret after they were counted (the secret was
    discovered later). One UPDATE over the unlinked rows; returns how many it linked."""
    known = Secret.objects.filter(backend__in=vault_backends())
    secret_id = Subquery(known.filter(path=OuterRef("path")).values("id")[:1])
    linked = {}
    with transaction.atomic():  # the daily rollup's rows with the hours' (services.daily)
        for model in (DailyAccess, HourlyAccess):
            unlinked = model.objects.filter(secret__isnull=True, path__in=known.values("path"))
            linked[model] = unlinked.update(secret=secret_id)
    return linked[HourlyAccess]


def aws_backends() -> list[str]:
    return [name for name, conf in settings.SECRET_BACKENDS.items() if conf.get("kind") == "aws"]
