"""The approvals queue and a grant's timeline, live over the real websocket stack: a new request
reaches an approver's socket in the page's own words; new session lines reach the timeline."""

import hvac
import pytest
from asgiref.sync import async_to_sync, sync_to_async

from breakglass import live as bg_live
from breakglass.models import Grant
from breakglass.services import approve, grants, recording
from console import live
from tests.live_client import live_query, open_live

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_new_request_reaches_the_approvers_queue(ask, secret_at, carol):
    secret = secret_at("live/db")
    client = carol.client()
    query = live_query(bg_live.QUEUE, "queue", seq=live.current_seq(bg_live.QUEUE))

    async def scenario():
        socket = await open_live(client, query)
        access = await sync_to_async(ask)(secret)
        message = await socket.receive_from(timeout=10)
        await socket.disconnect()
        return access, message

    access, message = async_to_sync(scenario)()
    assert message.startswith('<tbody id="approval-queue" hx-swap-oob="innerHTML">')
    assert f'href="/access/{access.pk}/"' in message and "alice" in message and "production" in message


def test_new_session_lines_reach_the_grants_timeline(ask, secret_at, carol, erin, alice, openbao, kv_prefix):
    access = ask(secret_at("live/db"))
    approve.do_approve(access.pk, actor=carol.user, code=carol.code())
    approve.do_approve(access.pk, actor=erin.user, code=erin.code())
    grant = Grant.objects.get(request=access)
    token = grants.do_reveal(grant.pk, actor=alice.user, code=alice.code())
    client = carol.client()
    query = live_query(bg_live.SESSIONS, "timeline", seq=live.current_seq(bg_live.SESSIONS), grant=grant.pk)

    def use_and_record():
        hvac.Client(url=openbao.url, token=token).secrets.kv.v2.read_secret_version(
            path=f"{kv_prefix}/live/db", mount_point="secret", raise_on_deleted_version=True
        )
        recording.read_audit_log(str(openbao.audit_log))

    async def scenario():
        socket = await open_live(client, query)
        await sync_to_async(use_and_record)()
        message = await socket.receive_from(timeout=10)
        while f"secret/data/{kv_prefix}/live/db" not in message:
            message = await socket.receive_from(timeout=10)
        await socket.disconnect()
        return message

    message = async_to_sync(scenario)()
    assert message.startswith('<tbody id="timeline" hx-swap-oob="innerHTML">') and token not in message
