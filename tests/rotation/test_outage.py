"""OpenBao stopped (SIGSTOP: it accepts connections and answers nothing) while rotations are due:
retries stay bounded with back-off, rotation.failed fires for each failing run and
rotation.retries_exhausted (critical) for the one that runs out; after OpenBao continues, the
other completes with exactly one new version, and the exhausted one wrote none."""

import json
import os
import signal
from datetime import timedelta

import hvac
import pytest
from django.db import transaction
from django.utils import timezone

from console.stack.servers import OpenBao
from secrets_admin.alerts.models import Alert
from secrets_admin.rotation.models import RotationRun
from secrets_admin.rotation.services import start_run
from tests.markers import requires_postgres
from tests.rotation.workers import purge_queue, settled, wait_for, worker_process

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def own_openbao(tmp_path, settings):
    """An OpenBao of this test's own (the session's one must keep answering other tests), as
    backend "bao2" with a one-second timeout."""
    bao = OpenBao(tmp_path / "bao2", token="outage-root").start()
    try:
        bao.wait_ready()
        config = {"kind": "vault", "url": bao.url, "token": bao.token, "timeout": 1, "engines": "kv"}
        settings.SECRET_BACKENDS = {**settings.SECRET_BACKENDS, "bao2": config}
        yield bao, config
    finally:
        os.kill(bao.pid, signal.SIGCONT)
        bao.stop()


def test_openbao_stopped_while_rotations_are_due(own_openbao, servers, make_secret, tmp_path):
    purge_queue()
    bao, config = own_openbao
    raw = hvac.Client(url=bao.url, token=bao.token)
    due = timezone.now() - timedelta(hours=1)
    secrets = {}
    for name in ("patient", "impatient"):
        raw.secrets.kv.v2.create_or_update_secret(path=f"out/{name}", secret={"value": f"old-{name}"})
        secrets[name] = make_secret(f"secret/out/{name}", backend="bao2", next_due=due)

    os.kill(bao.pid, signal.SIGSTOP)
    env = {"SECRET_BACKENDS": json.dumps({"bao2": config})}
    with worker_process(servers, tmp_path / "worker.log", **env):
        runs = {}
        for name, attempts in (("patient", 30), ("impatient", 2)):
            with transaction.atomic():  # the limit is set before the run is queued (on commit)
                run = start_run(secrets[name], actor="test", reason="schedule")
                RotationRun.objects.filter(pk=run.pk).update(max_attempts=attempts)
            runs[name] = run
        wait_for(lambda: settled(runs["impatient"]), 90, "the impatient run to use up its retries")
        patient = runs["patient"]
        wait_for(
            lambda: patient.refresh_from_db() or patient.attempt >= 2, 60, "two failures of the other run"
        )
        assert runs["impatient"].state == "needs_person" and runs["impatient"].attempt == 2
        assert patient.state in ("retrying", "running") and "timed out" in patient.error
        exhausted = Alert.objects.get(event="rotation.retries_exhausted")
        assert exhausted.severity == "critical" and exhausted.target_id == str(secrets["impatient"].pk)
        assert Alert.objects.filter(event="rotation.failed", state="open").count() == 2

        os.kill(bao.pid, signal.SIGCONT)
        wait_for(lambda: settled(patient), 90, "the patient run to finish after OpenBao continued")
    assert patient.state == "finished", patient.error
    versions = {
        name: raw.secrets.kv.v2.read_secret_metadata(path=f"out/{name}")["data"]["current_version"]
        for name in secrets
    }
    assert versions == {"patient": 2, "impatient": 1}  # one new version; none for the run that gave up
    assert (
        raw.secrets.kv.v2.read_secret_version(path="out/patient", raise_on_deleted_version=True)["data"][
            "data"
        ]["value"]
        != "old-patient"
    )
    assert patient.steps.filter(ok=False).count() == patient.steps.filter(name="create").count() - 1
    assert not Alert.objects.filter(
        event="rotation.failed", state="open", target_id=str(secrets["patient"].pk)
    )
