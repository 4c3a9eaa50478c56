"""The Celery app's contract: JSON only, late acknowledgement — a task whose worker is killed
mid-task finishes on another worker —, beat schedule from settings, and the request id of the web
request carried into the task."""

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from kombu.exceptions import EncodeError

from console.celery import app
from console.middleware import current_request_id

ROOT = Path(__file__).resolve().parents[2]


def test_tasks_and_results_are_json_only():
    assert app.conf.task_serializer == "json" and app.conf.result_serializer == "json"
    assert app.conf.accept_content == ["json"]
    with pytest.raises(EncodeError):
        app.send_task("console.echo", args=[object()])  # never reaches the broker


def worker(name: str, queue: str, redis_url: str, visibility: int) -> subprocess.Popen:
    """A real worker process (prefork, one child) in its own process group, as `make run` starts one."""
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "CELERY_VISIBILITY_TIMEOUT": str(visibility),
        "DJANGO_SETTINGS_MODULE": "console.settings",
    }
    command = [sys.executable, "-m", "celery", "-A", "console", "worker", "-n", f"{name}@%h"]
    command += ["-Q", queue, "-c", "1", "--pool", "prefork", "--include", "tests.console.worker_tasks"]
    command += ["--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "WARNING"]
    return subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)


def stop(process: subprocess.Popen, sig=signal.SIGKILL):
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
    process.wait(timeout=30)


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_task_whose_worker_is_killed_mid_task_finishes_on_another_worker(servers, tmp_path):
    assert app.conf.task_acks_late and app.conf.task_reject_on_worker_lost  # what makes it possible
    queue = f"tests-worker-death-{uuid.uuid4().hex[:8]}"  # no other worker of the session reads it
    visibility = 5
    first = worker("doomed", queue, servers.redis_url, visibility)
    second = None
    try:
        result = app.send_task("tests.console.finish_once", args=[str(tmp_path), 600], queue=queue)
        wait_for(lambda: list(tmp_path.glob("started-doomed@*")), 60, "the first worker to start the task")
        stop(first)  # SIGKILL to the whole worker: no chance to reject or ack anything
        assert result.state != "SUCCESS"
        second = worker("survivor", queue, servers.redis_url, visibility)
        finished_by = result.get(timeout=90)
        assert finished_by.startswith("survivor@")
        starts = sorted(path.name.split("-")[1] for path in tmp_path.glob("started-*"))
        assert [name.split("@")[0] for name in starts] == ["doomed", "survivor"]
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                stop(process, signal.SIGTERM)


def test_beat_schedule_comes_from_settings_and_names_registered_tasks(settings):
    schedule = app.conf.beat_schedule
    assert schedule == settings.CELERY_BEAT_SCHEDULE
    assert schedule["heartbeat"]["task"] == "console.heartbeat"
    app.loader.import_default_modules()
    unknown = {entry["task"] for entry in schedule.values()} - set(app.tasks)
    assert not unknown, f"beat schedules tasks nobody defines: {unknown}"


@app.task(name="tests.console.current_request_id")
def current_request_id_task():
    """What a task's log lines are stamped with (the worker runs in this process: start_worker)."""
    return current_request_id()


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_tasks_under_the_request_id_sent_in_the_message_header():
    # The worker consumes the session's real broker (Redis/Valkey); no eager mode. The id travels
    # as a message header (a web request sets it), not through this thread's context.
    with start_worker(app, queues=["console"], perform_ping_check=False, shutdown_timeout=30):
        echo = app.send_task("console.echo", args=["round-trip"])
        assert echo.get(timeout=30) == "round-trip"
        tagged = current_request_id_task.apply_async(
            queue="console", headers={"request_id": "req-celery-0001"}
        )
        assert tagged.get(timeout=30) == "req-celery-0001"
        untagged = current_request_id_task.apply_async(queue="console")
        assert untagged.get(timeout=30) == f"task-{untagged.id}"
