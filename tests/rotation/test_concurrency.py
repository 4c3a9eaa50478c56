"""Races on PostgreSQL with real threads: ten "rotate now" give one run; two workers, one lease."""

import threading

import pytest
from django.db import connection

from secrets_admin.rotation.models import RotationRun
from secrets_admin.rotation.services import RunAlreadyActive, engine, start_run
from tests.markers import requires_postgres

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]


def _together(n, work):
    barrier, results = threading.Barrier(n), []

    def body():
        try:
            barrier.wait()
            results.append(work())
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test counts
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=body) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_ten_concurrent_rotate_now_give_one_run(counting, make_secret):
    secret = make_secret("secret/race/key")
    results = _together(10, lambda: start_run(secret, actor="cli", reason="rotate-now", strategy="counting"))
    runs = [r for r in results if isinstance(r, RotationRun)]
    refused = [r for r in results if isinstance(r, RunAlreadyActive)]
    assert len(runs) == 1 and len(refused) == 9, results
    assert RotationRun.objects.filter(secret=secret).count() == 1
    assert all(r.run.pk == runs[0].pk for r in refused)


def test_two_workers_never_both_hold_a_lease(counting, make_secret):
    secret = make_secret("secret/race/key")
    run = RotationRun.objects.create(secret=secret, strategy="counting")
    results = _together(8, lambda: engine.advance(run.pk))
    assert sorted(r["state"] for r in results) == ["finished"] + ["skipped"] * 7
    run.refresh_from_db()
    assert run.steps.count() == 4 and run.state_data["create_calls"] == 1
