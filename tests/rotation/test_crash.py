"""kill -9 at every step boundary of a blue-green rotation, on a real worker process: the
reconciler (not the broker) resumes the run from the step it reached; the secret gains exactly
one new current version; the stored value logs in at the demo provider."""

import pytest

from secrets_admin.audit.models import AuditEntry
from secrets_admin.backends import get_backend
from secrets_admin.rotation.services import start_run
from tests.markers import requires_postgres
from tests.rotation.test_blue_green import _versions
from tests.rotation.workers import finish_with_reconciler, purge_queue, worker_process

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]

BOUNDARIES = [
    f"{when}:{step}" for step in ("create", "set", "test", "finish") for when in ("before", "after")
]
CASES = [("vault", point) for point in BOUNDARIES] + [("aws", "after:create"), ("aws", "after:finish")]


@pytest.mark.parametrize(("backend", "point"), CASES)
def test_a_worker_killed_at_a_step_boundary_is_finished_by_the_reconciler(
    backend, point, servers, api_key_secret, hook, demo_provider, openbao, moto, tmp_path
):
    purge_queue()
    old = f"old-{point}-value"
    secret = api_key_secret(backend, old)
    hook(secret)
    before = _versions(secret, openbao, moto)
    marker = tmp_path / "crashed"

    with worker_process(
        servers, tmp_path / "worker-1.log", ROTATION_CRASH_AT=point, ROTATION_CRASH_ONCE=marker
    ) as w:
        run = start_run(secret, actor="test", reason="cli")
        assert w.wait_exit() == 137, f"the worker should have died at {point}"
    assert marker.exists()
    run.refresh_from_db()
    assert run.state == "running" and run.lease_owner  # left behind by the dead worker

    finish_with_reconciler(run, servers, tmp_path / "worker-2.log")
    assert run.state == "finished", run.error
    store = get_backend(backend)
    new = store.read_current(secret.path)
    assert new != old and _versions(secret, openbao, moto) == before + 1  # exactly one new version
    assert run.new_version_id == store.current_version(secret.path)
    assert demo_provider.login(new) == 200 and demo_provider.login(old) == 200  # overlap
    assert AuditEntry.objects.filter(action="rotation.run.resumed", target_id=str(run.pk)).count() == 1
    crashed_step = point.split(":")[1]
    log = list(run.steps.values_list("name", "ok"))
    assert (crashed_step, False) in log and log[-1] == ("finish", True)
