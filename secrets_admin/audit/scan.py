"""Reading the linked chain for verification on PostgreSQL: one COPY stream per range, and a long
run split across two processes.

COPY streams rows without a round trip per batch (a named cursor's FETCH cost the server twice
the CPU), in text format: one line a row, decoded and split in C. The server formats the time
like chain.format_time and sends jsonb as text, so Python builds no datetime per row.

Every entry can be checked on its own (its hashes) plus against the one before it (prev_hash),
so a run of at least PARALLEL_MIN entries is cut in two at `middle`: this process checks
(after, middle] while a forked child checks the rest, starting from the stored hash of entry
`middle`, which this process checks and reaches last. Joined, the outcome is the one a single
pass gives (first break, counts, acknowledged breaks stepped over); whenever the halves do not
meet exactly (entry `middle` missing, a break before it, the child failing), the rest is checked
here in one pass instead, so the split never changes the result, only the time.
"""

import logging
import multiprocessing
import re

import psycopg  # imported here, not in the forked child (no import lock taken after the fork)

from secrets_admin.audit import chain

log = logging.getLogger(__name__)

PARALLEL_MIN = 200_000  # entries; below this a second process costs more than it saves

_COLUMNS = (
    "sequence, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), actor_name, "
    "action, target_type, target_id, target_repr, request_id, ip, data::text, content_hash, prev_hash, hash"
)
# COPY TO STDOUT text format: backslash, and \b \f \n \r \t \v, are the only escapes the server
# writes (no NULLs here: every column of a linked entry is NOT NULL or set by the sequencer).
_UNESCAPE = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}
_ESCAPED = re.compile(r"\\(.)")


def _unescape(field: str) -> str:
    return _ESCAPED.sub(lambda match: _UNESCAPE[match.group(1)], field)


def copy_statement(after: int, upto: int | None = None) -> str:
    """COPY of the linked entries after `after` (to `upto` inclusive), in chain order."""
    bound = "" if upto is None else f" AND sequence <= {int(upto)}"
    return (
        f"COPY (SELECT {_COLUMNS} FROM audit_auditentry WHERE sequence > {int(after)}{bound} "  # noqa: S608 (constant columns; bounds are int())
        "ORDER BY sequence) TO STDOUT"
    )


def rows(cursor, after: int, upto: int | None = None):
    """Linked entries after `after` (to `upto`) as chain.FIELDS tuples, from a psycopg cursor."""
    with cursor.copy(copy_statement(after, upto)) as copy:
        for line in copy:  # one CopyData message a row
            text = str(line, "utf-8")
            fields = text[:-1].split("\t")
            if "\\" in text:  # rare: a tab, newline or backslash in some value
                fields = [_unescape(field) for field in fields]
            fields[0] = int(fields[0])
            yield fields


def verify_range(cursor, after: int, prev_hash: str, accepted: frozenset, upto: int | None = None):
    stream = rows(cursor, after, upto)
    try:
        return chain.verify_rows(stream, after=after, prev_hash=prev_hash, accepted=accepted)
    finally:
        stream.close()  # ends the COPY at once, also at a break


def join(first: chain.Outcome, second: chain.Outcome) -> chain.Outcome:
    """One outcome for two consecutive ranges, `second` starting where `first` ended intact."""
    joined = second
    joined.entries += first.entries
    joined.first = first.first if first.first is not None else second.first
    joined.stepped_over = first.stepped_over + second.stepped_over
    return joined


# --- the split --------------------------------------------------------------------------------


def _child(params: dict, middle: int, accepted: frozenset, pipe) -> None:
    """Check the entries after `middle`, from the stored hash of entry `middle`, on a connection
    of its own (never the parent's, which it inherited). Sends (start hash, outcome) or, when
    entry `middle` is not there, (None, None); an error is sent as its text."""
    try:
        with psycopg.connect(**params, autocommit=True) as connection, connection.cursor() as cursor:
            cursor.execute("SELECT hash FROM audit_auditentry WHERE sequence = %s", [middle])
            start = cursor.fetchone()
            if start is None:
                pipe.send((None, None))
                return
            pipe.send((start[0], verify_range(cursor, middle, start[0], accepted)))
    except Exception as exc:  # reported to the parent, which then checks this range itself
        pipe.send(f"{type(exc).__name__}: {exc}")
    finally:
        pipe.close()


def _start_child(params, middle, accepted):
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(
        target=_child, args=(params, middle, accepted, send), name="audit-verify-half", daemon=True
    )
    process.start()
    send.close()
    return process, receive


def _finish_child(process, receive, *, wanted: bool):
    """The child's report, or None; a child whose result is not wanted is stopped."""
    report = None
    try:
        if wanted:
            report = receive.recv()
    except EOFError:
        report = "the child ended without a report"
    finally:
        receive.close()
        if process.is_alive() and not wanted:
            process.terminate()
        process.join()
    return report


def verify_split(connection, after: int, prev_hash: str, accepted: frozenset, top: int) -> chain.Outcome:
    """Verify the linked entries after `after` with two processes (see the module docstring).
    `connection` is the Django connection wrapper (its parameters open the child's own)."""
    middle = after + (top - after) // 2
    params = connection.get_connection_params()
    try:
        process, receive = _start_child(params, middle, accepted)
    except (OSError, AssertionError) as exc:  # no fork here (or a daemonic worker): one pass
        log.warning("audit verification in one process: %s", exc)
        with connection.cursor() as cursor:
            return verify_range(cursor.cursor, after, prev_hash, accepted)
    wanted = False
    try:
        with connection.cursor() as cursor:
            first = verify_range(cursor.cursor, after, prev_hash, accepted, upto=middle)
        wanted = first.ok and first.last == middle
    finally:
        report = _finish_child(process, receive, wanted=wanted)
    if not first.ok:
        log.debug("split at #%d: a break before it", middle)
        return first  # the first break is in the first half
    if isinstance(report, tuple) and report[0] is not None and report[0] == first.last_hash:
        log.debug("split at #%d: the halves joined", middle)
        return join(first, report[1])
    # The halves do not meet exactly (entry `middle` missing or changed meanwhile, the child
    # failed): one pass from where the first half ended, as a single pass would go on.
    why = report if wanted else f"the first half ended at #{first.last}"
    log.debug("split at #%d: one pass from #%d (%s)", middle, first.last, why)
    if wanted and not isinstance(report, tuple):
        log.warning("audit verification: the second process failed (%s); its half checked here", report)
    with connection.cursor() as cursor:
        rest = verify_range(cursor.cursor, first.last, first.last_hash, accepted)
    return join(first, rest)
