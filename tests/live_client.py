"""A websocket client for tests of the live layer: the real ASGI application (session cookie,
origin check, AuthMiddlewareStack, LiveConsumer) through channels' WebsocketCommunicator.

    socket = await open_live(client, "topic=inventory.sync&view=runs&seq=-1")
    html = await socket.receive_from()          # a fragment
    code = await closed_with(socket)            # or the close code of a refused socket
"""

from urllib.parse import urlencode

from channels.testing import WebsocketCommunicator
from django.conf import settings


def live_query(topic: str, *views: str, seq: int = -1, **params) -> str:
    return urlencode([("topic", topic), *(("view", v) for v in views), ("seq", seq), *params.items()])


async def open_live(client, query: str) -> WebsocketCommunicator:
    """Connect as the test `client`'s session (anonymous when it has none)."""
    from console.asgi import application

    cookie = client.cookies.get(settings.SESSION_COOKIE_NAME)
    headers = [(b"origin", b"http://testserver"), (b"host", b"testserver")]
    if cookie is not None:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie.value}".encode()))
    socket = WebsocketCommunicator(application, f"/ws/live/?{query}", headers=headers)
    connected, _ = await socket.connect(timeout=5)
    assert connected, "the socket should be accepted (refusals are close codes after accepting)"
    return socket


async def closed_with(socket: WebsocketCommunicator, timeout: float = 5) -> int:
    """The close code the server sent next (fails if it sent something else)."""
    message = await socket.receive_output(timeout)
    assert message["type"] == "websocket.close", message
    return message.get("code")
