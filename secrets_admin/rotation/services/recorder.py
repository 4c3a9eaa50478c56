"""A chunk's recording transactions on a second thread (its own database connection), so their
durable commits (an fsync each) overlap the next lane's backend calls instead of stalling them.

chunks.advance_chunk splits a chunk into ROTATION_CHUNK_LANES lanes and, step by step, runs one
lane's backend calls while the previous lane's outcomes commit here. What this keeps:

- a lane's next step starts only after its previous step's outcome committed (`wait`), so every
  run is still recorded at a step before that step's backend calls, as on the one-run path;
- each recording is one short transaction with no network call inside (as before, only on
  another connection); lanes are disjoint runs, so the two connections never lock the same rows;
- a worker killed with a recording in flight leaves that lane's runs at the step they ran (the
  step is replayed by run token, making nothing twice) and the other lane's before theirs.

Only on PostgreSQL and outside the caller's transaction: inside one (a test's, an atomic block)
the other connection could not see the caller's rows, so the recording runs inline instead.
"""

import os
from concurrent.futures import Future, ThreadPoolExecutor

from django.conf import settings
from django.db import connection, connections

_pool: ThreadPoolExecutor | None = None
_pool_pid = 0


def lanes() -> int:
    return max(1, int(getattr(settings, "ROTATION_CHUNK_LANES", 1)))


def overlapping() -> bool:
    return connection.vendor == "postgresql" and not connection.in_atomic_block


def _recorder() -> ThreadPoolExecutor:
    """One recording thread per process (a forked pool process makes its own)."""
    global _pool, _pool_pid
    if _pool is None or _pool_pid != os.getpid():
        _pool = ThreadPoolExecutor(1, thread_name_prefix="rotation-recorder")
        _pool_pid = os.getpid()
    return _pool


def submit(fn, *args) -> Future:
    """Run fn(*args) (one recording transaction) on the recording thread, or inline (see above);
    the future holds its result or its exception."""
    if lanes() > 1 and overlapping():
        return _recorder().submit(_recorded, fn, *args)
    future = Future()
    try:
        future.set_result(fn(*args))
    except Exception as exc:  # handed to wait(), as the thread's would be
        future.set_exception(exc)
    return future


def _recorded(fn, *args):
    # The thread keeps its connection between recordings (CONN_MAX_AGE 0 would make Django's own
    # check reconnect every time: a new server process per transaction); after an error, one
    # that no longer answers is replaced.
    for conn in connections.all(initialized_only=True):
        if conn.connection is not None and conn.errors_occurred:
            if conn.is_usable():
                conn.errors_occurred = False
            else:
                conn.close()
    return fn(*args)


def wait(futures) -> None:
    """Wait for every recording in `futures` (None entries skipped); then raise the first error."""
    error = None
    for future in futures:
        if future is None:
            continue
        try:
            future.result()
        except Exception as exc:
            error = error or exc
    if error is not None:
        raise error


def close() -> None:
    """Close the recording thread's connection (a test's database is about to go; shutdown)."""
    if _pool is not None and _pool_pid == os.getpid():
        _pool.submit(connections.close_all).result()
