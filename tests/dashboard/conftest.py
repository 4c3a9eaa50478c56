import json
import time

import pytest
import redis
from django.core.cache import cache

from secrets_admin.dashboard.services import refresh

QUEUE = "console"  # CELERY_TASK_DEFAULT_QUEUE


@pytest.fixture(autouse=True)
def _no_recompute_under_way():
    """Tests share one Redis: a mark or lock left by an earlier test must not make this one's
    events wait for a recompute that is not queued (services.refresh coalesces through them)."""
    cache.delete_many([refresh.QUEUED_KEY, refresh.LOCK_KEY, *(refresh.PART_KEY + p for p in refresh.PARTS)])


def queued_tasks(url: str, prefix: str = "dashboard.") -> list[dict]:
    """The messages waiting in the broker's queue for tasks named `prefix`…"""
    broker = redis.Redis.from_url(url)
    found = [json.loads(item) for item in broker.lrange(QUEUE, 0, -1)]
    return [m for m in found if m.get("headers", {}).get("task", "").startswith(prefix)]


@pytest.fixture
def broker(servers):
    """The session's broker with its queue emptied: messages earlier tests queued without a
    worker (any app's) must not run against this test's database."""
    client = redis.Redis.from_url(servers.redis_url)
    client.delete(QUEUE)
    return servers.redis_url


@pytest.fixture
def dashboard_worker(broker):
    """A real Celery worker on the session's broker (never eager mode), for as long as the test."""
    from celery.contrib.testing.worker import start_worker

    from console.celery import app

    with start_worker(app, queues=[QUEUE], perform_ping_check=False, shutdown_timeout=30, loglevel="WARNING"):
        yield


def wait_for(check, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.02)
    raise AssertionError(f"not within {timeout}s")
