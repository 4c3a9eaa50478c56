"""The live socket, /ws/live/?topic=T&view=V[&view=W]&seq=N[&param=value…]

One socket follows one topic (console.live). It is served only to a session that pages would let
through — logged in and, when the user has a device (or MFA is required), OTP-verified — whose
user is in one of the topic's groups. Everything else is accepted and closed at once with a code
the page can explain (and that htmx's websocket extension does not retry):

    4400 malformed request · 4401 not signed in / second factor missing · 4403 not in the
    topic's groups · 4404 unknown topic or view

What the socket sends is only HTML fragments rendered from the database by the topic's views.
It sends them on connect when the page's `seq` is behind (something changed between the page's
render and the socket, or while a previous socket was away), and whenever the topic's sequence
moves past what it last sent. Events that queued up while it rendered are absorbed by reading
the sequence before rendering, so a burst costs one render. Every LIVE_RECHECK_SECONDS the
socket checks its session and groups again (logout, expiry, removal from a group close it) and
refreshes its channel-group membership, which channels-redis would otherwise expire after a day.
"""

import asyncio
import logging
from importlib import import_module
from urllib.parse import parse_qs

from asgiref.sync import sync_to_async
from channels.auth import get_user
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from console import live
from console.second_factor import past_second_factor

log = logging.getLogger(__name__)

BAD_REQUEST, NOT_SIGNED_IN, FORBIDDEN, UNKNOWN = 4400, 4401, 4403, 4404
RESERVED = {"topic", "view", "seq"}


def may_receive(user, session, topic: live.Topic) -> int | None:
    """None when `user` may follow `topic` now, else the close code saying why not."""
    if not past_second_factor(user, session):
        return NOT_SIGNED_IN
    if not user.groups.filter(name__in=topic.groups).exists():
        return FORBIDDEN
    return None


class LiveConsumer(AsyncWebsocketConsumer):
    topic: live.Topic | None = None
    seq = live.UNKNOWN_SEQ
    watcher: asyncio.Task | None = None

    async def connect(self):
        # Accept first: a refused handshake reaches the page as 1006, which htmx retries forever.
        await self.accept()
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        topic = live.TOPICS.get((query.get("topic") or [""])[0])
        self.views = query.get("view") or []
        self.params = {key: values[-1] for key, values in query.items() if key not in RESERVED}
        if topic is None or not self.views or not set(self.views) <= set(topic.views):
            await self.close(code=UNKNOWN)
            return
        user, session = self.scope.get("user"), self.scope.get("session")
        refused = await database_sync_to_async(may_receive)(user, session, topic)
        if refused:
            await self.close(code=refused)
            return
        self.topic, self.user_pk = topic, user.pk
        self.session_key = getattr(session, "session_key", None)
        await self.channel_layer.group_add(topic.channel_group, self.channel_name)
        try:
            page_seq = int((query.get("seq") or [live.UNKNOWN_SEQ])[0])
        except ValueError:
            page_seq = live.UNKNOWN_SEQ
        now = await self._current_seq()
        if page_seq == now != live.UNKNOWN_SEQ:
            self.seq = now  # the page was rendered at this state: nothing to send
        else:
            await self._send_views(now)
        self.watcher = asyncio.ensure_future(self._recheck_forever())

    async def disconnect(self, code):
        if self.watcher is not None:
            self.watcher.cancel()
        if self.topic is not None:
            await self.channel_layer.group_discard(self.topic.channel_group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        """The page has nothing to say: its socket address carries the whole subscription."""

    async def live_changed(self, event):
        if self.topic is None or event.get("seq", 0) <= self.seq:
            return  # already shown (a render read a newer sequence) or a stale duplicate
        await self._send_views(max(await self._current_seq(), event["seq"]))

    # -- helpers --------------------------------------------------------------------------------
    async def _current_seq(self) -> int:
        return await sync_to_async(live.current_seq)(self.topic.name)

    async def _send_views(self, seq: int) -> None:
        """Render every view from the database as it is now (at or after `seq`) and send them,
        one message each: HTML parsing drops a <tbody> that follows a <div> in one fragment."""
        try:
            fragments = await database_sync_to_async(self._render)()
        except live.BadRequest:
            await self.close(code=BAD_REQUEST)
            return
        self.seq = seq
        for html in fragments:
            await self.send(text_data=html)

    def _render(self) -> list[str]:
        return [self.topic.views[name](self.params) for name in self.views]

    async def _recheck_forever(self):
        while True:
            await asyncio.sleep(settings.LIVE_RECHECK_SECONDS)
            try:
                refused = await self._recheck()
            except Exception:  # a database hiccup must not end the page's feed; try again later
                log.warning("live socket: could not re-check the session", exc_info=True)
                continue
            if refused:
                await self.channel_layer.group_discard(self.topic.channel_group, self.channel_name)
                self.topic = None  # nothing more is sent on this socket
                await self.close(code=refused)
                return
            await self.channel_layer.group_add(self.topic.channel_group, self.channel_name)

    async def _recheck(self) -> int | None:
        """Read the session again from its store: logged out, expired, another user, removed
        from the topic's groups or deactivated all end the feed."""
        session = import_module(settings.SESSION_ENGINE).SessionStore(self.session_key)
        user = await get_user({"session": session})  # loads the session, checks its auth hash
        if user.pk != self.user_pk:
            return NOT_SIGNED_IN
        return await database_sync_to_async(may_receive)(user, session, self.topic)
