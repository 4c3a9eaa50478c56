"""A chunk in lanes: one lane's outcomes commit on the recording thread (its own connection)
while the next lane's steps run, and still every run is recorded at a step before that step's
backend calls, and a worker killed with a lane's outcomes in flight leaves each run to the
reconciler with exactly one new version."""

import pytest
from django.db import connection

from secrets_admin.audit.models import AuditEntry
from secrets_admin.backends import get_backend
from secrets_admin.rotation.models import RotationRun
from secrets_admin.rotation.services import chunks, recorder
from tests.markers import requires_postgres
from tests.rotation.test_blue_green import _versions
from tests.rotation.workers import finish_with_reconciler, purge_queue, worker_process

STEPS = ["create", "set", "test", "finish"]


@pytest.fixture
def recording_thread():
    yield
    recorder.close()  # the test database is dropped at the end: no connection may stay on it


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_lanes_record_on_a_second_connection_and_never_run_a_step_before_its_intent(
    counting, make_secret, settings, recording_thread, monkeypatch
):
    settings.ROTATION_CHUNK_LANES = 2
    runs = [
        RotationRun.objects.create(secret=make_secret(f"secret/lanes/k{i}"), strategy="counting")
        for i in range(6)
    ]
    seen, recorded_on = [], set()
    count = counting._count

    def watched(self, ctx, step):  # what the database says (committed) when the step's work starts
        seen.append((ctx.run.pk, step, RotationRun.objects.values_list("step", flat=True).get(pk=ctx.run.pk)))
        count(self, ctx, step)

    record = chunks._record

    def on_which_connection(done, name, owner):
        connection.ensure_connection()
        recorded_on.add(connection.connection.info.backend_pid)
        return record(done, name, owner)

    monkeypatch.setattr(counting, "_count", watched)
    monkeypatch.setattr(chunks, "_record", on_which_connection)
    assert chunks.advance_chunk([run.pk for run in runs]) == {"skipped": 0, "finished": 6}
    assert [(pk, step) for pk, step, committed in seen if committed != step] == []  # intent first
    assert len(seen) == 6 * 4
    connection.ensure_connection()
    main = connection.connection.info.backend_pid
    assert len(recorded_on) == 1 and main not in recorded_on  # 8 recordings, one other connection
    for run in RotationRun.objects.filter(pk__in=[r.pk for r in runs]):
        assert (run.state, run.step, run.lease_owner) == ("finished", "done", "")
        assert [run.state_data[f"{step}_calls"] for step in STEPS] == [1, 1, 1, 1]  # each step once
        assert list(run.steps.order_by("id").values_list("name", "ok")) == [(s, True) for s in STEPS]
        entries = AuditEntry.objects.filter(target_id=str(run.pk), action="rotation.step.finished")
        assert entries.count() == 4


@pytest.mark.django_db
def test_inside_a_transaction_lanes_record_in_line(counting, make_secret, settings):
    """The second connection could not see the caller's uncommitted rows: record in line."""
    settings.ROTATION_CHUNK_LANES = 3
    runs = [
        RotationRun.objects.create(secret=make_secret(f"secret/lanes/in{i}"), strategy="counting")
        for i in range(5)
    ]
    assert not recorder.overlapping()
    assert chunks.advance_chunk([run.pk for run in runs]) == {"skipped": 0, "finished": 5}
    assert set(RotationRun.objects.values_list("state", flat=True)) == {"finished"}


@requires_postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("step", ["create", "finish"])
def test_a_worker_killed_with_a_lane_recording_in_flight_leaves_runs_to_the_reconciler(
    step, servers, api_key_secret, openbao, moto, tmp_path
):
    purge_queue()
    secrets = [api_key_secret("vault", f"old-{i}") for i in range(4)]  # one chunk, two lanes of two
    before = [_versions(s, openbao, moto) for s in secrets]
    marker = tmp_path / "crashed"
    crash = {"ROTATION_CRASH_AT": f"recording:{step}", "ROTATION_CRASH_ONCE": marker}
    with worker_process(servers, tmp_path / "worker-1.log", ROTATION_CHUNK_LANES=2, **crash) as w:
        runs, _ = chunks.start_runs(secrets, actor="celery:rotation.schedule", reason="schedule")
        assert w.wait_exit() == 137  # the first lane's step is done at the backend, not recorded
    first_lane = runs[:2]
    for run in first_lane:
        run.refresh_from_db()
        assert run.step == step and run.state == "running"  # where the reconciler must resume it
    for run in runs:
        finish_with_reconciler(run, servers, tmp_path / "worker-2.log")
        assert run.state == "finished", run.error
    for secret, run, versions in zip(secrets, runs, before, strict=True):
        assert _versions(secret, openbao, moto) == versions + 1  # exactly one new version each
        assert run.new_version_id == get_backend("vault").current_version(secret.path)
    for run in first_lane:
        assert AuditEntry.objects.filter(action="rotation.run.resumed", target_id=str(run.pk)).count() == 1


@pytest.mark.django_db
def test_a_chunk_asks_for_its_hooks_once_with_the_one_run_answers(make_secret, django_assert_num_queries):
    from secrets_admin.inventory.models import RotationPolicy
    from secrets_admin.rotation import hooks
    from secrets_admin.rotation.models import RotationHook

    own, shared, plain = (make_secret(f"secret/lanes/hook-{n}") for n in ("own", "shared", "plain"))
    like = {"kind": "api_key", "strategy": own.rotation_policy.strategy}
    policy = RotationPolicy.objects.create(name="hooked keys", **like)
    plain.rotation_policy = RotationPolicy.objects.create(name="plain keys", **like)
    plain.save()
    own.rotation_policy = shared.rotation_policy = policy
    own.save()
    shared.save()
    mine = RotationHook.objects.create(secret=own, host="own.example", encrypted_url="x", encrypted_key="x")
    theirs = RotationHook.objects.create(policy=policy, host="p", encrypted_url="x", encrypted_key="x")
    expected = [hooks.hook_for(s) for s in (own, shared, plain)]
    assert expected == [mine, theirs, None]
    with django_assert_num_queries(1):
        hooks.prefetch([own, shared, plain])
        assert [hooks.hook_for(s) for s in (own, shared, plain)] == expected


@pytest.mark.django_db
def test_a_chunk_makes_the_raw_loops_openbao_calls_and_no_more(api_key_secret, openbao, monkeypatch):
    """bench/rotation.py compares the engine with a raw hvac loop making the same calls: keep it so.
    Counted on the wire (urllib3's pools), under the engine's transport and hvac's alike."""
    import hvac
    import urllib3.connectionpool

    from bench.support.rotation_raw import rotate, rotate_on_pool

    secrets = [api_key_secret("vault", f"old-{i}") for i in range(3)]
    calls = []
    urlopen = urllib3.connectionpool.HTTPConnectionPool.urlopen

    def counted(self, method, url, *args, **kwargs):
        if "/secret/" in url:  # KV calls (a first lookup of the mounts is once per process)
            calls.append((method.upper(), url))
        return urlopen(self, method, url, *args, **kwargs)

    monkeypatch.setattr(urllib3.connectionpool.HTTPConnectionPool, "urlopen", counted)
    runs, _ = chunks.start_runs(secrets, actor="celery:rotation.schedule", reason="schedule")
    assert chunks.advance_chunk([run.pk for run in runs]) == {"skipped": 0, "finished": 3}
    engine = len(calls)
    calls.clear()
    raw = hvac.Client(url=openbao.url, token=openbao.token)
    raw.secrets.kv.v2.create_or_update_secret(path="lanes/raw-key", secret={"value": "old"})
    calls.clear()
    rotate(openbao.url, openbao.token, "lanes/raw-key", "new")
    assert engine == 3 * len(calls) == 3 * 12
    hvac_calls = [(method, url.replace("raw-key", "key")) for method, url in calls]
    raw.secrets.kv.v2.create_or_update_secret(path="lanes/pool-key", secret={"value": "old"})
    calls.clear()
    rotate_on_pool(openbao.url, openbao.token, "lanes/pool-key", "new")  # the bench's information round
    assert [(method, url.replace("pool-key", "key")) for method, url in calls] == hvac_calls
    version = raw.secrets.kv.v2.read_secret_version(path="lanes/pool-key", raise_on_deleted_version=True)
    assert (version["data"]["metadata"]["version"], version["data"]["data"]) == (2, {"value": "new"})


@pytest.mark.django_db
def test_a_lane_left_waiting_past_its_lease_renews_it_before_its_next_call(
    counting, make_secret, settings, monkeypatch
):
    import time

    from django.utils import timezone

    settings.ROTATION_CHUNK_LANES = 2
    settings.ROTATION_LEASE_SECONDS = 2
    runs = [
        RotationRun.objects.create(secret=make_secret(f"secret/lanes/slow{i}"), strategy="counting")
        for i in range(4)
    ]
    slow = {run.pk for run in runs[2:]}  # the second lane's set takes 2.4 s: longer than a lease
    expired = []
    count = counting._count

    def slow_set(self, ctx, step):
        lease = RotationRun.objects.values_list("lease_expires_at", flat=True).get(pk=ctx.run.pk)
        if lease <= timezone.now():
            expired.append((ctx.run.pk, step))
        if step == "set" and ctx.run.pk in slow:
            time.sleep(1.2)
        count(self, ctx, step)

    monkeypatch.setattr(counting, "_count", slow_set)
    assert chunks.advance_chunk([run.pk for run in runs]) == {"skipped": 0, "finished": 4}
    assert expired == []  # every call began under a live lease
