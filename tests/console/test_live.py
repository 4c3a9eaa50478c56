"""The live websocket serves only sessions that pages would let through, and delivers what
services publish to the subscribers of a topic."""

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import User
from django.contrib.sessions.backends.db import SessionStore
from django_otp import DEVICE_ID_SESSION_KEY

from console import live
from console.consumers import LiveConsumer
from tests.accounts.factories import make_device


def converse(user, session=None, topic=None):
    """Connect as `user`; return (hello, close code or None, event received on `topic`)."""

    async def scenario():
        socket = WebsocketCommunicator(LiveConsumer.as_asgi(), "/ws/live/")
        socket.scope["user"], socket.scope["session"] = user, session
        connected, _ = await socket.connect()
        assert connected
        hello = await socket.receive_json_from()
        if not hello["authenticated"]:
            closed = await socket.receive_output()
            return hello, closed["code"], None
        await socket.send_json_to({"subscribe": topic})
        assert (await socket.receive_json_from()) == {"type": "subscribed", "topic": topic}
        from asgiref.sync import sync_to_async

        await sync_to_async(live.publish)(topic, {"event": "finished", "run": 7})
        event = await socket.receive_json_from(timeout=5)
        await socket.disconnect()
        return hello, None, event

    return async_to_sync(scenario)()


def test_an_anonymous_socket_is_told_and_closed_with_4401():
    from django.contrib.auth.models import AnonymousUser

    hello, code, _ = converse(AnonymousUser())
    assert hello == {"type": "hello", "authenticated": False} and code == 4401


@pytest.mark.django_db(transaction=True)
def test_a_user_with_a_device_but_an_unverified_session_is_closed():
    user = User.objects.create_user("ws-unverified")
    make_device(user)
    hello, code, _ = converse(user, SessionStore())
    assert hello["authenticated"] is False and code == 4401


@pytest.mark.django_db(transaction=True)
def test_without_a_device_mfa_required_closes_the_socket(settings):
    settings.MFA_REQUIRED = True
    user = User.objects.create_user("ws-no-device")
    assert converse(user, SessionStore())[1] == 4401


@pytest.mark.django_db(transaction=True)
def test_a_verified_session_gets_events_published_to_its_topic():
    user = User.objects.create_user("ws-verified")
    device = make_device(user)
    session = SessionStore()
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    hello, code, event = converse(user, session, topic="inventory.sync")
    assert hello["authenticated"] is True and code is None
    assert event == {"topic": "inventory.sync", "event": "finished", "run": 7}


@pytest.mark.django_db(transaction=True)
def test_a_session_naming_someone_elses_device_is_not_verified():
    user, other = User.objects.create_user("ws-mallory"), User.objects.create_user("ws-victim")
    make_device(user)
    session = SessionStore()
    session[DEVICE_ID_SESSION_KEY] = make_device(other).persistent_id
    assert converse(user, session)[1] == 4401
