"""Never a value, for Sealed Secrets: the values sealed in the manifests, and the new values a
re-seal campaign generates, appear nowhere the console keeps or sends data — the database dump,
logs (SQL included), the pages, the run state, the commit messages, the queued task in Redis."""

import logging
import uuid

import pytest
import redis
from django.db import connection

from secrets_admin.backends import passwords
from secrets_admin.inventory.models import Secret
from secrets_admin.inventory.services.sync import sync_backend
from secrets_admin.roles import SECURITY_TEAM
from secrets_admin.rotation.models import RotationRun
from secrets_admin.rotation.services import engine
from secrets_admin.sealed import services
from tests.inventory.conftest import code
from tests.inventory.test_canary import broker_messages, db_dump
from tests.sealed.conftest import git

pytestmark = pytest.mark.django_db


def test_no_sealed_or_resealed_value_reaches_db_logs_pages_commits_or_broker(
    sealed_backend, sealing_configured, servers, person, totp_for, client_for, caplog, monkeypatch,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    clone = sealed_backend
    values = [f"CANARY{uuid.uuid4().hex}" for _ in range(3)]
    clone.add(
        "apps/a.yaml", "a", "shop", values={"token": values[0]}, cert="old", metadata={"kind": "api_key"}
    )
    clone.add("apps/b.yaml", "b", "shop", values={"password": values[1], "pin": values[2]}, cert="old",
              metadata={"kind": "password"})  # fmt: skip
    generated, real = [], passwords.generate
    monkeypatch.setattr(
        passwords, "generate", lambda kind, backend="": generated.append(real(kind)) or generated[-1]
    )
    carol = person("carol", SECURITY_TEAM)
    totp = totp_for(carol)
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="django.db.backends")
    connection.force_debug_cursor = True
    try:
        sync_backend("gitops", actor="canary")
        services.check_sealing_keys()
        client = client_for(carol)
        with django_capture_on_commit_callbacks(execute=True):
            assert client.post("/sealed/campaign/", {"otp_code": code(totp)}).status_code == 302
        messages = [m for m in broker_messages(servers.redis_url, "console") if "sealed.launch_campaign" in m]
        redis.Redis.from_url(servers.redis_url).delete("console")
        campaign = services.launch_campaign(services.ResealCampaign.objects.get().pk)
        for run_id in campaign.started_runs:
            assert engine.advance(run_id)["state"] == "finished"
        sync_backend("gitops", actor="canary")
        html = [client.get("/sealed/").content.decode()]
        html += [
            client.get(s.get_absolute_url()).content.decode() for s in Secret.objects.filter(backend="gitops")
        ]
    finally:
        connection.force_debug_cursor = False
    assert len(generated) == 3 and messages, "three new values sealed; the campaign task went through Redis"
    values += generated
    runs = RotationRun.objects.filter(reason="campaign")
    haystacks = {
        "database dump": db_dump(),
        "logs": "\n".join(f"{r.name} {r.getMessage()}" for r in caplog.records),
        "html": "\n".join(html),
        "run state": repr(list(runs.values("state_data", "error"))),
        "commit messages": git(clone.path, "log", "--all", "--format=%B"),
        "broker messages": "\n".join(messages),
    }
    assert runs.count() == 2 and all(r.state == "finished" for r in runs)
    assert "apps/a.yaml#shop/a" in haystacks["html"] and "INSERT INTO" in haystacks["logs"]
    hits = [(where, value) for value in values for where, text in haystacks.items() if value in text]
    assert hits == []
