"""Never a value: known values written into OpenBao and moto must not appear anywhere the
console keeps or sends data after a sync, every inventory page, the admin, a console-created
secret and a queued sync task — the full DB dump, captured logs (SQL included), rendered HTML,
websocket frames and the raw broker message in Redis (its base64 body decoded too)."""

import base64
import json
import logging
import uuid

import pytest
import redis
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection
from django.urls import reverse

from console import live
from secrets_admin.inventory.models import Secret, SyncRun
from secrets_admin.inventory.services.sync import sync_backend
from secrets_admin.inventory.services.sync_now import do_request_sync
from secrets_admin.inventory.tasks import sync as sync_task
from tests.inventory.conftest import code

pytestmark = pytest.mark.django_db


def canary() -> str:
    return f"CANARY{uuid.uuid4().hex}"


def db_dump() -> str:
    """Every row of every table, as text."""
    parts = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 (our table names)
            parts.append(f"== {table}\n" + "\n".join(repr(row) for row in cursor.fetchall()))
    return "\n".join(parts)


def broker_messages(url: str, queue: str) -> list[str]:
    """Raw messages of a Redis list queue plus each one's decoded body."""
    client = redis.Redis.from_url(url)
    out = []
    for raw in client.lrange(queue, 0, -1):
        text = raw.decode()
        out.append(text)
        body = json.loads(text).get("body", "")
        out.append(base64.b64decode(body).decode(errors="replace"))
    return out


def test_no_secret_value_reaches_db_logs_html_websocket_or_broker(
    kv_backend,
    aws_backend,
    put_kv,
    kv,
    sm,
    servers,
    person,
    totp_for,
    client_for,
    caplog,
    django_capture_on_commit_callbacks,
):
    values = [canary() for _ in range(6)]
    kv_paths = [
        put_kv("canary/api", values[0], owner="canaries", kind="api_key"),
        put_kv("canary/db/password", values[1], kind="password", environment="production"),
    ]
    kv.secrets.kv.v2.create_or_update_secret(path=kv_paths[1].split("/", 1)[1], secret={"value": values[2]})
    arn = sm.create_secret(
        Name=f"{aws_backend}/canary/token",
        SecretString=values[3],
        Tags=[{"Key": "owner", "Value": "canaries"}],
    )["ARN"]
    sm.put_secret_value(SecretId=arn, SecretString=values[4])
    sm.create_secret(Name=f"{aws_backend}/canary/json", SecretString=json.dumps({"password": values[5]}))

    carol = person("carol", "security-team")
    totp = totp_for(carol)
    admin = person("root", "security-team")
    admin.is_superuser = admin.is_staff = True
    admin.save()
    totp_for(admin)
    layer = get_channel_layer()
    listener = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(live.TOPICS["inventory.sync"].channel_group, listener)
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="django.db.backends")
    connection.force_debug_cursor = True  # every SQL statement and its parameters go to the log
    try:
        with django_capture_on_commit_callbacks(execute=True):
            runs = [sync_backend("kvtest", actor="canary"), sync_backend("awstest", actor="canary")]
        assert [r.state for r in runs] == ["succeeded", "succeeded"] and sum(r.created for r in runs) == 4

        # A secret created from the console: its generated value joins the canaries.
        client = client_for(carol)
        new_path = f"secret/{kv_backend}/canary/generated"
        response = client.post(
            reverse("inventory:register"),
            {
                "action": "create",
                "create-backend": "kvtest",
                "create-path": new_path,
                "create-kind": "password",
                "create-owner_team": "canaries",
                "create-environment": "staging",
                "create-otp_code": code(totp),
            },
        )
        assert response.status_code == 302
        generated = kv.secrets.kv.v2.read_secret_version(
            path=new_path.split("/", 1)[1], mount_point="secret", raise_on_deleted_version=True
        )["data"]["data"]["value"]
        values.append(generated)

        html = []
        pages = [
            reverse("inventory:list"),
            reverse("inventory:list") + "?q=canary&sort=-next_due",
            reverse("inventory:list") + "?owner_team=canaries",
            reverse("inventory:register"),
            reverse("inventory:runs"),
        ]
        for secret in Secret.objects.filter(backend__in=["kvtest", "awstest"]):
            pages += [secret.get_absolute_url(), reverse("inventory:edit", args=[secret.pk])]
        pages += [reverse("inventory:run", args=[r.pk]) for r in SyncRun.objects.all()]
        for url in pages:
            response = client.get(url)
            assert response.status_code == 200, url
            html.append(response.content.decode())
        admin_client = client_for(admin)
        for url in (
            "admin:inventory_secret_changelist",
            "admin:inventory_secretversion_changelist",
            "admin:inventory_syncrun_changelist",
            "admin:inventory_rotationpolicy_changelist",
        ):
            response = admin_client.get(reverse(url))
            assert response.status_code == 200, url
            html.append(response.content.decode())
        some = Secret.objects.filter(backend="awstest").first()
        response = admin_client.get(reverse("admin:inventory_secret_change", args=[some.pk]))
        assert response.status_code == 200
        html.append(response.content.decode())

        frames = []  # what travels through Redis, then what the sockets render and send
        while True:
            try:
                frames.append(json.dumps(async_to_sync(_receive)(layer, listener)))
            except TimeoutError:
                break
        views = live.TOPICS["inventory.sync"].views
        since = {"since": runs[0].started_at.isoformat()}
        frames += [views["banner"](since), views["runs"]({})]
        frames += [views["run"]({"run": str(r.pk)}) for r in runs]

        # The broker: the task "Sync now" queues, inspected raw in the real Redis.
        queue = f"canary-{uuid.uuid4().hex[:8]}"
        sync_task.apply_async(args=["kvtest"], queue=queue, headers={"request_id": "canary-request"})
        with django_capture_on_commit_callbacks(execute=True):
            do_request_sync("kvtest", actor=carol)
        messages = broker_messages(servers.redis_url, queue)
        console_queue = [m for m in broker_messages(servers.redis_url, "console") if "inventory.sync" in m]
        redis.Redis.from_url(servers.redis_url).delete(queue, "console")
        assert messages and console_queue, "the task messages were not found in Redis"
    finally:
        connection.force_debug_cursor = False

    dump = db_dump()
    logs = "\n".join(f"{r.name} {r.getMessage()}" for r in caplog.records)
    haystacks = {
        "database dump": dump,
        "logs": logs,
        "html": "\n".join(html),
        "websocket frames": "\n".join(frames),
        "broker messages": "\n".join(messages + console_queue),
    }
    # Positive controls: the haystacks hold what they should (paths, counts, the task name).
    assert kv_paths[0] in dump and arn in dump and kv_paths[0] in haystacks["html"]
    assert "INSERT INTO" in logs and "inventory_secret" in logs
    assert '"event": "finished"' in haystacks["websocket frames"]
    assert "Succeeded" in haystacks["websocket frames"]
    assert "inventory.sync" in haystacks["broker messages"] and "kvtest" in haystacks["broker messages"]
    # The test itself: zero hits.
    hits = [(where, value) for value in values for where, text in haystacks.items() if value in text]
    assert hits == []


async def _receive(layer, channel):
    import asyncio

    return await asyncio.wait_for(layer.receive(channel), timeout=1)
