"""audit-entries.csv from PostgreSQL: COPY in spans, on two connections at once.

The server formats every row (COPY ... CSV, `tables.COPY_ENTRIES`), so Python only moves bytes.
Two reader threads, each on a connection of its own, take alternate spans of SPAN entries, so
both of PostgreSQL's cores format rows while the export compresses and hashes the spans
already read. A reader hands over a span only once its COPY statement has finished, and holds
at most QUEUED finished spans: a slow download stops the readers between statements, never
inside one, so nothing stays open in the database while the client is slow.

Inside a transaction (the tests' rollback) other connections would not see its rows, so there
the spans are read one after another on the caller's connection.
"""

import queue
import threading

from django.db import connection, connections

from secrets_admin.compliance.services import tables

SPAN = 5_000  # entries per COPY statement (~2 MB of CSV)
READERS = 2
QUEUED = 2
_DONE = object()


def spans(first: int, last: int) -> list[tuple[int, int]]:
    if not first:
        return []
    return [(at, min(last, at + SPAN - 1)) for at in range(first, last + 1, SPAN)]


def _read(span: tuple[int, int]) -> bytes:
    """One span's CSV rows, on this thread's connection (one COPY statement, finished)."""
    out = bytearray()
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(tables.COPY_ENTRIES.format(first=int(span[0]), last=int(span[1]))) as copy,
    ):
        for block in copy:  # libpq hands over one row per block
            out += block
    return bytes(out)


def _reader(mine: list, out: queue.Queue, stop: threading.Event) -> None:
    try:
        for span in mine:
            data = _read(span)
            while not stop.is_set():
                try:
                    out.put(data, timeout=0.5)
                    break
                except queue.Full:
                    continue
            if stop.is_set():
                return
        out.put(_DONE)
    except BaseException as exc:  # handed to the export, which raises it
        out.put(exc)
    finally:
        connections.close_all()  # this thread's connections only


def csv_spans(first: int, last: int):
    """The CSV rows of entries first..last (PostgreSQL), as bytes, one span at a time, in order."""
    todo = spans(first, last)
    if connection.in_atomic_block or len(todo) < 2:
        for span in todo:
            yield _read(span)
        return
    stop = threading.Event()
    queues = [queue.Queue(maxsize=QUEUED) for _ in range(READERS)]
    threads = [
        threading.Thread(
            target=_reader, args=(todo[n::READERS], queues[n], stop), name=f"evidence-copy-{n}", daemon=True
        )
        for n in range(READERS)
    ]
    for thread in threads:
        thread.start()
    try:
        for n in range(len(todo)):
            data = queues[n % READERS].get()
            if isinstance(data, BaseException):
                raise data
            yield data
    finally:
        stop.set()
        for q in queues:  # unblock a reader waiting to hand over
            while not q.empty():
                q.get_nowait()
        for thread in threads:
            thread.join(timeout=30)
