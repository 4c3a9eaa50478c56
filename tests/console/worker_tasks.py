"""Tasks the worker-death test's worker processes import (`celery worker --include`)."""

import os
import time
from pathlib import Path

from console.celery import app


@app.task(name="tests.console.finish_once", bind=True)
def finish_once(self, folder: str, seconds: float):
    """Mark the start with this worker's name; the first delivery then works for `seconds` (long
    enough to be killed), a redelivery finishes at once. Returns the name of the worker that
    finished it."""
    marks = Path(folder)
    first = not any(marks.glob("started-*"))
    (marks / f"started-{self.request.hostname}-{os.getpid()}").write_text(str(time.time()))
    if first:
        time.sleep(seconds)
    return self.request.hostname
