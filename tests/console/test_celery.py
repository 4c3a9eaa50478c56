"""The Celery app's contract: JSON only, late acknowledgement, re-queue when a worker dies, beat
schedule from settings, and the request id of the web request carried into the task."""

import pytest
from celery.contrib.testing.worker import start_worker
from kombu.exceptions import EncodeError

from console.celery import app
from console.middleware import current_request_id


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
