"""How record() sends its INSERT on PostgreSQL: one round trip, and a plan made once per connection.

An audited change that is only its entry (a login, a Celery step) would otherwise cost three round
trips (BEGIN, INSERT, COMMIT), and PostgreSQL would parse and plan the INSERT — eleven columns,
nine indexes, the append-only trigger's condition — for every entry. Here the INSERT goes out in
one libpq pipeline (psycopg's documented `Connection.pgconn`): the BEGIN psycopg would have sent
(only when the transaction has not started yet), the statement's Parse the first time on this
connection, then Bind/Execute of the named statement and one Sync; the change's COMMIT follows as
usual. Measured with one connection, the backend spends about half the CPU per entry of the
literal INSERT, and the writer a third (psycopg quotes nothing: the values go as text).

The named statement lives as long as the server session. Behind a pooler that hands a client's
transactions to different server sessions and does not track prepared statements (PgBouncer
in transaction mode before 1.21) set AUDIT_PREPARED_INSERT=false: the INSERT is then parsed
each time, still in the one round trip.

Query logging (DEBUG, assertNumQueries) and execute wrappers must see the statement, so they
take Django's ordinary cursor, as does any connection state this path does not reproduce (a
non-default isolation level, read-only or deferrable, an open pipeline, a failed transaction).
"""

import functools
import weakref

from django.conf import settings
from psycopg import errors as pg_errors
from psycopg import pq

NAME = b"candlefish_audit_insert"
_prepared = weakref.WeakSet()  # psycopg connections whose server session holds NAME

_IDLE, _INTRANS = pq.TransactionStatus.IDLE, pq.TransactionStatus.INTRANS
_OK = (pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK)
_SYNC = pq.ExecStatus.PIPELINE_SYNC


@functools.lru_cache(maxsize=64)
def numbered(sql: str) -> bytes:
    """`sql` with psycopg's %s placeholders as PostgreSQL's $1, $2, ... (the SQL has no other %)."""
    parts = sql.split("%s")
    return "".join(f"{part}${i}" for i, part in enumerate(parts[:-1], 1)).encode() + parts[-1].encode()


def insert(connection, rows: list[list], sql: str, params: list) -> list[int]:
    """Run `sql` (an INSERT ... RETURNING id with %s placeholders) in the connection's open
    atomic block; `rows` are its values as UTF-8 text (None for NULL), one list per entry,
    `params` the same values for Django's cursor. Returns the ids in the order returned."""
    pg = connection.connection
    begin = _begin(pg)
    if begin is None or connection.queries_logged or connection.execute_wrappers:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return [found[0] for found in cursor.fetchall()]
    connection.validate_no_broken_transaction()  # what Django's cursor checks first
    named = len(rows) == 1 and settings.AUDIT_PREPARED_INSERT
    values = rows[0] if len(rows) == 1 else [value for row in rows for value in row]
    with connection.wrap_database_errors, pg.lock:
        pgconn = pg.pgconn
        prepare = named and pg not in _prepared
        pgconn.enter_pipeline_mode()
        results, synced = [], False
        try:
            if begin:
                pgconn.send_query_params(b"BEGIN", None)
            if prepare:
                pgconn.send_prepare(NAME, numbered(sql))
            if named:
                pgconn.send_query_prepared(NAME, values)
            else:
                pgconn.send_query_params(numbered(sql), values)
            pgconn.pipeline_sync()
            synced = True
            _read(pgconn, results)
        except BaseException:
            _abandon(pgconn, synced, results)
            raise
        finally:  # a prepared statement outlives a rollback: known from its own result
            if prepare and len(results) > begin and results[begin].status == pq.ExecStatus.COMMAND_OK:
                _prepared.add(pg)
        pgconn.exit_pipeline_mode()
        if len(results) != begin + prepare + 1:
            raise pg_errors.ProtocolViolation(f"{len(results)} results in record()'s pipeline")
        for result in results:
            if result.status not in _OK:
                raise pg_errors.error_from_result(result, encoding=pg.info.encoding)
        inserted = results[-1]
        return [int(inserted.get_value(i, 0)) for i in range(inserted.ntuples)]


def _begin(pg) -> bool | None:
    """True if this path must send the transaction's BEGIN (none sent yet, and psycopg would send
    a plain one), False if a transaction is open, None for any state left to Django's cursor."""
    pgconn = pg.pgconn
    if (
        pg.autocommit
        or pgconn.pipeline_status != pq.PipelineStatus.OFF
        or pgconn.parameter_status(b"client_encoding") != b"UTF8"  # the values are sent as UTF-8
    ):
        return None
    status = pgconn.transaction_status
    if status == _INTRANS:
        return False
    if status == _IDLE and pg.isolation_level is None and pg.read_only is None and pg.deferrable is None:
        return True
    return None


def _read(pgconn, results: list) -> None:
    """Append the first result of each query to `results`, up to the pipeline's Sync (after an
    error the rest come back PIPELINE_ABORTED; the first error is the one to raise)."""
    while True:
        result = pgconn.get_result()
        if result is None:  # the end of one query's results
            if pgconn.status != pq.ConnStatus.OK:
                raise pg_errors.OperationalError("the connection to PostgreSQL was lost")
            continue
        if result.status == _SYNC:
            return
        results.append(result)


def _abandon(pgconn, synced: bool, results: list) -> None:
    """Leave pipeline mode after a failure part-way (a refused send, an interrupted read): what
    was sent runs to the Sync and is read into `results`, so the session is where psycopg expects
    it (an error in the transaction, which Django then rolls back). If even that fails, the
    session is closed rather than left half-way in a pipeline."""
    try:
        if pgconn.status == pq.ConnStatus.OK:
            if not synced:
                pgconn.pipeline_sync()
            _read(pgconn, results)
            pgconn.exit_pipeline_mode()
    except Exception:
        pgconn.finish()
