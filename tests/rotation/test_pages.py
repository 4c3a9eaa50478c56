"""Rotation pages: the run list and step log, the secret page's panel, and "Rotate now" with a
one-time code bound to the secret."""

import pytest

from secrets_admin.audit.models import AuditEntry
from secrets_admin.rotation.models import RotationRun, RotationStep
from tests.inventory.conftest import code

pytestmark = pytest.mark.django_db


@pytest.fixture
def carol(people, totp_for):
    user = people["security-team"]
    return user, totp_for(user)


def test_rotate_now_with_a_code_starts_one_run_and_shows_it(carol, client_for, make_secret):
    user, totp = carol
    secret = make_secret("secret/pages/key")
    client = client_for(user)
    page = client.get(f"/rotation/secrets/{secret.pk}/rotate/")
    assert page.status_code == 200 and "consumers must re-read it" in page.content.decode()
    answer = client.post(f"/rotation/secrets/{secret.pk}/rotate/", {"otp_code": code(totp)})
    run = RotationRun.objects.get(secret=secret)
    assert answer.status_code == 302 and answer["Location"] == f"/rotation/runs/{run.pk}/"
    assert (run.reason, run.actor, run.strategy, run.state) == ("rotate-now", user, "blue-green", "pending")
    entry = AuditEntry.objects.get(action="rotation.run.started")
    assert entry.actor == user and entry.data["reason"] == "rotate-now"

    again = client.post(f"/rotation/secrets/{secret.pk}/rotate/", {"otp_code": code(totp, 1)})
    assert again.status_code == 400 and "already has an active rotation run" in again.content.decode()
    assert RotationRun.objects.filter(secret=secret).count() == 1


def test_a_wrong_code_starts_nothing(carol, client_for, make_secret):
    user, _ = carol
    secret = make_secret("secret/pages/key")
    answer = client_for(user).post(f"/rotation/secrets/{secret.pk}/rotate/", {"otp_code": "000000"})
    assert answer.status_code == 400 and not RotationRun.objects.exists()


def test_a_secret_no_strategy_can_rotate_says_why(carol, client_for, make_secret):
    user, totp = carol
    secret = make_secret("pki/cert/11-22", kind="api_key")
    answer = client_for(user).post(f"/rotation/secrets/{secret.pk}/rotate/", {"otp_code": code(totp)})
    assert answer.status_code == 400 and not RotationRun.objects.exists()
    assert "only KV v2 keys rotate in OpenBao/Vault" in answer.content.decode()


def test_the_run_page_shows_the_step_log_and_the_secret_page_its_runs(people, client_for, make_secret):
    from django.utils import timezone

    secret = make_secret("secret/pages/key")
    run = RotationRun.objects.create(
        secret=secret,
        strategy="blue-green",
        state="retrying",
        step="set",
        attempt=1,
        error="the hook timed out",
    )
    RotationStep.objects.create(run=run, name="create", started_at=timezone.now(), ok=True, duration_ms=12,
                                facts={"pending_version": "4"})  # fmt: skip
    RotationStep.objects.create(
        run=run, name="set", started_at=timezone.now(), ok=False, error="the hook timed out"
    )
    client = client_for(people["developers"])
    html = client.get(f"/rotation/runs/{run.pk}/").content.decode()
    assert "12 ms" in html and "pending_version=4" in html and "failed: the hook timed out" in html
    assert "/ws/live/" in html
    listing = client.get("/rotation/").content.decode()
    assert f"/rotation/runs/{run.pk}/" in listing
    detail = client.get(f"/inventory/{secret.pk}/").content.decode()
    assert f"/rotation/runs/{run.pk}/" in detail and "Rotate now" not in detail  # a developer
    assert (
        "Rotate now" in client_for(people["security-team"]).get(f"/inventory/{secret.pk}/").content.decode()
    )
