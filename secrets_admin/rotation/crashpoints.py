"""Crash points: let a test kill a real worker at a named step boundary (`os._exit`, like kill -9:
no cleanup, no ack, the lease left behind), to prove the reconciler finishes the run.

Off unless ROTATION_CRASH_AT names a point: "<before|after>:<step>" (e.g. "after:create"), where
"after" means the step's backend work is done but not yet recorded; "recording:<step>" (chunks)
is a lane's outcomes about to commit on the recording thread while the next lane's calls run.
ROTATION_CRASH_ONCE names a file: the worker crashes only if it does not exist yet and creates it
first, so the restarted worker (or the next one in the pool) goes on. Any strategy's engine calls
go through here, so other strategies' tests reuse it as is.
"""

import os

ENV_POINT = "ROTATION_CRASH_AT"
ENV_ONCE = "ROTATION_CRASH_ONCE"


def crash_point(name: str) -> None:
    if os.environ.get(ENV_POINT) != name:
        return
    once = os.environ.get(ENV_ONCE)
    if once:
        try:
            os.close(os.open(once, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return
    os._exit(137)
