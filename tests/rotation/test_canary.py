"""Never a value, for rotations: the old, new and pending values of rotated API keys (KV v2 and
AWS, with and without a hook, one refused by its provider) appear in no table, log line (SQL
included), page, websocket frame, broker message or alert message."""

import json
import logging

import pytest
import redis
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core import mail
from django.db import connection

from console import live
from secrets_admin.alerts.models import Delivery
from secrets_admin.alerts.services.delivery import deliver
from secrets_admin.backends import get_backend
from secrets_admin.rotation.models import RotationRun
from secrets_admin.rotation.services import engine, start_run
from secrets_admin.rotation.services.retire import retire_due
from tests.inventory.canary import receive_all
from tests.inventory.test_canary import broker_messages, canary, db_dump

pytestmark = pytest.mark.django_db(transaction=True)


def test_no_rotated_value_reaches_db_logs_pages_frames_broker_or_alerts(
    api_key_secret, hook, demo_provider, servers, people, client_for, caplog, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    redis.Redis.from_url(servers.redis_url).delete("console")
    olds = [canary() for _ in range(4)]
    secrets = [
        api_key_secret("vault", olds[0]),
        api_key_secret("aws", olds[1]),
        api_key_secret("vault", olds[2]),
    ]
    refused = api_key_secret("aws", olds[3])
    hook(secrets[0])
    hook(secrets[1])
    hook(refused, key="a-key-the-provider-does-not-have")
    layer = get_channel_layer()
    listener = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(live.TOPICS["rotation.runs"].channel_group, listener)
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="django.db.backends")
    connection.force_debug_cursor = True  # every SQL statement and its parameters go to the log
    try:
        runs = [start_run(s, actor="canary", reason="cli") for s in [*secrets, refused]]
        messages = broker_messages(servers.redis_url, "console")  # queued after commit, not yet taken
        for run in runs:
            engine.advance(run.pk)
        RotationRun.objects.filter(state="finished").update(retire_after="2000-01-01T00:00:00Z")
        assert retire_due()["retired"] == 3
        for delivery in Delivery.objects.all():
            deliver(delivery.pk)
    finally:
        connection.force_debug_cursor = False

    for run in runs:
        run.refresh_from_db()
    assert [r.state for r in runs] == ["finished", "finished", "finished", "failed"]
    values = olds + [get_backend(s.backend).read_current(s.path) for s in secrets]
    values.append(
        get_backend("aws").read_pending(refused.path, token=runs[3].token)
    )  # staged, never promoted
    assert len(set(values)) == len(values)

    client = client_for(people["security-team"])
    pages = ["/rotation/"] + [f"/rotation/runs/{r.pk}/" for r in runs]
    pages += [f"/inventory/{s.pk}/" for s in [*secrets, refused]] + [
        f"/rotation/secrets/{s.pk}/rotate/" for s in secrets
    ]
    pages += ["/alerts/"]
    html = [client.get(url).content.decode() for url in pages]
    frames = [json.dumps(message) for message in receive_all(layer, listener)]
    views = live.TOPICS["rotation.runs"].views
    frames += [views["runs"]({})] + [views["run"]({"run": str(r.pk)}) for r in runs]
    emails = [f"{m.subject}\n{m.body}\n{m.alternatives}" for m in mail.outbox]

    haystacks = {
        "database dump": db_dump(),
        "logs": "\n".join(f"{r.name} {r.getMessage()}" for r in caplog.records),
        "html": "\n".join(html),
        "websocket frames": "\n".join(frames),
        "broker messages": "\n".join(messages),
        "alert emails": "\n".join(emails),
    }
    # Positive controls: each haystack holds what it should.
    assert secrets[0].path in haystacks["database dump"] and "rotation_rotationstep" in haystacks["logs"]
    assert "rotation.advance" in haystacks["broker messages"] and "finish" in haystacks["websocket frames"]
    assert (
        "answered 401 to set" in haystacks["html"]
        and emails
        and "failed at step set" in haystacks["alert emails"]
    )
    hits = [(where, value) for value in values for where, text in haystacks.items() if value in text]
    assert hits == []
