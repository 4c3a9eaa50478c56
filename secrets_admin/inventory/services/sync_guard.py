"""Single flight for inventory syncs: one running sync per backend, decided by the database.

The guard is the partial unique index `syncrun_one_running_per_backend` (SyncRun rows with state
"running" are unique per backend). A start inserts its running row in a short transaction of its
own; a concurrent start's insert waits for that commit, then fails on the index and is recorded
as a skipped run, audited. Nothing is held across the backend walk: the row *is* the lock.

A worker that dies leaves its row "running". The walk refreshes `heartbeat_at` as it goes
(`beat()`); a start first marks every running run whose heartbeat is older than
`INVENTORY_SYNC_TIMEOUT` abandoned (audited), so the next run proceeds. Every later write of the
old run is conditional on it still running, so a worker that was only slow, not dead, notices
and stops without touching the inventory again (`RunAbandoned`).
"""

import logging
import queue
import threading
import time
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models.functions import Coalesce
from django.utils import timezone

from console.middleware import current_request_id
from secrets_admin.audit.services import actor_name, record
from secrets_admin.inventory import actions
from secrets_admin.inventory.models import SyncRun

log = logging.getLogger(__name__)

HEARTBEAT_EVERY = 5.0  # seconds between heartbeats while walking; far below any sane timeout


class RunAbandoned(Exception):
    """This run was marked abandoned by another process: stop, and write nothing more."""


def start_run(name: str, actor) -> SyncRun:
    """A new running SyncRun for `name`, or a finished "skipped" one (audited) when another run
    of `name` is running. Runs of dead workers are abandoned first."""
    abandon_silent_runs(actor=actor)
    who, request_id = actor_name(actor), current_request_id()
    try:
        with transaction.atomic():
            return SyncRun.start(name, actor=who, request_id=request_id)
    except IntegrityError:
        pass  # another run of this backend is running (the unique index said so)
    with transaction.atomic():
        busy = SyncRun.objects.filter(backend=name, state=SyncRun.State.RUNNING).first()
        running = busy.pk if busy else None
        run = SyncRun.start(name, actor=who, request_id=request_id, state=SyncRun.State.SKIPPED)
        run.error = f"skipped: sync run {running} of {name} is still running"
        run.finished_at = run.started_at
        run.save(update_fields=["error", "finished_at"])
        record(actions.SYNC_SKIPPED, actor=actor, target=run, data={"backend": name, "running": running})
    return run


def abandon_silent_runs(*, actor, now=None) -> list[int]:
    """Mark running runs whose heartbeat is older than INVENTORY_SYNC_TIMEOUT abandoned, each
    with an audit entry; returns their ids. A run whose row is locked right now is beating, so
    it is skipped rather than waited for."""
    now = now or timezone.now()
    timeout = settings.INVENTORY_SYNC_TIMEOUT
    with transaction.atomic():
        silent = list(
            SyncRun.objects.select_for_update(skip_locked=True)
            .annotate(last_sign=Coalesce("heartbeat_at", "started_at"))
            .filter(state=SyncRun.State.RUNNING, last_sign__lt=now - timedelta(seconds=timeout))
            .defer("errors")
        )
        for run in silent:
            silent_for = int((now - run.last_sign).total_seconds())
            run.state, run.finished_at = SyncRun.State.ABANDONED, now
            run.error = f"abandoned: its worker gave no sign of life for {silent_for} s (timeout {timeout} s)"
            run.save(update_fields=["state", "finished_at", "error"])
            record(
                actions.SYNC_ABANDONED,
                actor=actor,
                target=run,
                data={"backend": run.backend, "silent_seconds": silent_for, "timeout_seconds": timeout},
            )
            log.warning(
                "sync run %s of %s abandoned after %s s without a heartbeat", run.pk, run.backend, silent_for
            )
    return [run.pk for run in silent]


class Heartbeat:
    """Calls `run.save_progress()` at most every HEARTBEAT_EVERY seconds from the walk's loop
    (autocommit: one short UPDATE, no transaction around the backend calls)."""

    def __init__(self, run: SyncRun):
        self.run, self.last = run, time.monotonic()

    def beat(self) -> None:
        if time.monotonic() - self.last < HEARTBEAT_EVERY:
            return
        self.last = time.monotonic()
        if not self.run.save_progress():
            raise RunAbandoned(self.run.pk)


def read_ahead(iterator, *, depth: int):
    """Yield what `iterator` yields, walked by a thread of its own up to `depth` items ahead, so
    the backend reads go on while the caller writes a chunk to the database (the walk touches no
    database). An exception of the walk is raised here, where the item would have come. Leaving
    early stops the walk and closes it."""
    handoff = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(message) -> bool:
        while not stop.is_set():
            try:
                handoff.put(message, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def walk():
        try:
            for item in iterator:
                if not put(("item", item)):
                    return
            put(("done", None))
        except BaseException as exc:  # handed to the caller, raised there
            put(("error", exc))
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=walk, name="sync-read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            kind, value = handoff.get()
            if kind == "item":
                yield value
            elif kind == "done":
                return
            else:
                raise value
    finally:
        stop.set()
        worker.join(timeout=30)
