"""The Celery app's contract: JSON only, late acknowledgement, re-queue when a worker dies, beat
schedule from settings, and the request id of the web request carried into the task."""

import logging

import pytest
from celery.contrib.testing.worker import start_worker
from kombu.exceptions import EncodeError

from console.celery import app
from console.middleware import RequestIDLogFilter


def test_tasks_and_results_are_json_only():
    assert app.conf.task_serializer == "json" and app.conf.result_serializer == "json"
    assert app.conf.accept_content == ["json"]
    with pytest.raises(EncodeError):
        app.send_task("console.echo", args=[object()])  # never reaches the broker


def test_tasks_are_acknowledged_after_they_ran_and_requeued_if_the_worker_dies():
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.task_default_queue == "console"


def test_beat_schedule_comes_from_settings_and_names_registered_tasks(settings):
    schedule = app.conf.beat_schedule
    assert schedule == settings.CELERY_BEAT_SCHEDULE
    assert schedule["heartbeat"]["task"] == "console.heartbeat"
    app.loader.import_default_modules()
    unknown = {entry["task"] for entry in schedule.values()} - set(app.tasks)
    assert not unknown, f"beat schedules tasks nobody defines: {unknown}"


class Collect(logging.Handler):
    def __init__(self):
        super().__init__()
        self.addFilter(RequestIDLogFilter())  # what settings.LOGGING puts on its handler
        self.lines = []

    def emit(self, record):
        self.lines.append((record.request_id, record.getMessage()))


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_a_task_and_logs_under_the_callers_request_id():
    # The worker consumes the session's real broker (Redis/Valkey); no eager mode. The id travels
    # as a message header (a web request sets it), not through this thread's context.
    trace = logging.getLogger("celery.app.trace")
    collect = Collect()
    trace.addHandler(collect)
    try:
        with start_worker(app, queues=["console"], perform_ping_check=False, shutdown_timeout=30):
            result = app.send_task(
                "console.echo", args=["round-trip"], headers={"request_id": "req-celery-0001"}
            )
            assert result.get(timeout=30) == "round-trip"
    finally:
        trace.removeHandler(collect)
    done = [
        request_id for request_id, message in collect.lines if result.id in message and "succeeded" in message
    ]
    assert done == ["req-celery-0001"]
