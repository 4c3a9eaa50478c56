"""`manage.py rotate`: exit 0 finished, 1 failed, 2 bad input with a message; never a value."""

import io
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from secrets_admin.backends import get_backend
from secrets_admin.rotation.models import RotationRun
from tests.markers import requires_postgres
from tests.rotation.workers import purge_queue, worker_process


def rotate(*args) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("rotate", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue(), err.getvalue()


@pytest.mark.django_db
class TestBadInput:
    def test_an_unknown_secret_exits_2(self):
        assert rotate("secret/no/such") == (2, "", "rotate: no secret 'secret/no/such' in the inventory\n")

    def test_a_secret_no_strategy_can_rotate_exits_2(self, make_secret):
        make_secret("pki/cert/11-22", kind="api_key")  # an API key's policy, where blue-green cannot write
        code, out, err = rotate("pki/cert/11-22")
        assert code == 2 and "only KV v2 keys rotate" in err and not RotationRun.objects.exists()

    def test_a_run_already_active_exits_2(self, make_secret):
        secret = make_secret("secret/cli/key")
        run = RotationRun.objects.create(secret=secret, strategy="blue-green")
        code, _, err = rotate(str(secret.pk))
        assert code == 2 and f"active rotation run (#{run.pk}" in err

    def test_a_secret_in_two_backends_needs_backend(self, make_secret):
        make_secret("secret/cli/key", backend="vault")
        make_secret("secret/cli/key", backend="aws")
        assert rotate("secret/cli/key")[0] == 2
        assert rotate("secret/cli/key", "--backend", "aws")[0] == 0
        assert RotationRun.objects.get().secret.backend == "aws"


@pytest.mark.django_db
def test_due_starts_what_is_due(make_secret):
    make_secret("secret/cli/due", next_due=timezone.now() - timedelta(hours=1))
    code, out, _ = rotate("--due", "--json")
    assert code == 0 and json.loads(out)["started"] == 1
    assert RotationRun.objects.get().reason == "schedule"


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_wait_prints_each_step_and_the_new_version_never_the_value(servers, api_key_secret, hook, tmp_path):
    purge_queue()
    secret = api_key_secret("vault", "old-cli-value")
    hook(secret)
    with worker_process(servers, tmp_path / "worker.log"):
        code, out, err = rotate(secret.path, "--wait")
    assert code == 0, err
    new = get_backend("vault").read_current(secret.path)
    run = RotationRun.objects.get(secret=secret)
    for line in ("blue-green rotation of", "create: ok", "set: ok", "test: ok", "finish: ok"):
        assert line in out
    assert f"run {run.pk}: finished, new version {run.new_version_id}" in out
    assert new not in out and "old-cli-value" not in out


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_wait_exits_1_when_the_run_fails(servers, api_key_secret, hook, tmp_path):
    purge_queue()
    secret = api_key_secret("vault", "old-cli-value")
    hook(secret, key="a-key-the-provider-does-not-have")
    with worker_process(servers, tmp_path / "worker.log"):
        code, out, _ = rotate(secret.path, "--wait", "--json")
    document = json.loads(out)
    assert code == 1 and document["state"] == "failed" and document["step"] == "set"
    assert [s["name"] for s in document["steps"]] == ["create", "set"] and document["new_version_id"] is None
