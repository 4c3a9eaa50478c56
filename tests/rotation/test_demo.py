"""The demo's rotation seeding: payments API keys hooked to the demo provider, which gets a
read-only OpenBao token of its own; two keys made due; a hooked key then rotates for real."""

import io

import hvac
import pytest
from django.utils import timezone

from secrets_admin.backends import get_backend
from secrets_admin.rotation.demo import TOKEN_FILE, seed_rotation
from secrets_admin.rotation.models import RotationHook
from secrets_admin.rotation.services import engine
from secrets_admin.rotation.services.scheduler import start_due

pytestmark = pytest.mark.django_db


def test_seeding_hooks_the_payments_keys_and_a_due_one_rotates_on_schedule(
    api_key_secret, demo_provider, openbao, settings, tmp_path, monkeypatch
):
    settings.DATA_DIR = tmp_path
    monkeypatch.setenv("DEMO_PROVIDER_URL", demo_provider.url)
    monkeypatch.setenv("DEMO_PROVIDER_HMAC_KEY", demo_provider.key)
    payments = [api_key_secret("vault", "old-a", "payments"), api_key_secret("aws", "old-b", "payments")]
    other = api_key_secret("vault", "old-c")

    out = io.StringIO()
    seed_rotation(out)
    assert "2 payments API keys hooked" in out.getvalue()
    assert set(RotationHook.objects.values_list("secret_id", flat=True)) == {s.pk for s in payments}
    assert not RotationHook.objects.filter(secret=other).exists()

    token = (tmp_path / TOKEN_FILE).read_text()
    provider = hvac.Client(url=openbao.url, token=token)
    root = hvac.Client(url=openbao.url, token=openbao.token)
    assert root.auth.token.lookup(token)["data"]["policies"] == ["candlefish-demo-provider"]
    with pytest.raises(hvac.exceptions.Forbidden):  # it may read, never write
        provider.secrets.kv.v2.create_or_update_secret(path="payments/x", secret={"value": "v"})

    assert start_due(timezone.now())["started"] == 2  # the two payments keys are due now
    for run in payments[0].rotation_runs.all() | payments[1].rotation_runs.all():
        engine.advance(run.pk)
        run.refresh_from_db()
        assert run.state == "finished", run.error
        assert demo_provider.login(get_backend(run.secret.backend).read_current(run.secret.path)) == 200
