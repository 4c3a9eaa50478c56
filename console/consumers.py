"""The live channel: pages subscribe to topics and get small JSON events (never secret values).

Topics are group names such as `inventory.sync`; services publish with `console.live.publish`
from `transaction.on_commit`. Anonymous sockets are told so and closed (code 4401).
"""

import re

from channels.generic.websocket import AsyncJsonWebsocketConsumer

TOPIC = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")


class LiveConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        await self.accept()
        user = self.scope.get("user")
        authenticated = bool(user and user.is_authenticated)
        await self.send_json({"type": "hello", "authenticated": authenticated})
        if not authenticated:
            await self.close(code=4401)
        self.topics = set()

    async def receive_json(self, content, **kwargs):
        topic = content.get("subscribe") if isinstance(content, dict) else None
        if not isinstance(topic, str) or not TOPIC.match(topic):
            await self.send_json({"type": "error", "error": 'send {"subscribe": "topic.name"}'})
            return
        await self.channel_layer.group_add(topic, self.channel_name)
        self.topics.add(topic)
        await self.send_json({"type": "subscribed", "topic": topic})

    async def disconnect(self, code):
        for topic in getattr(self, "topics", ()):
            await self.channel_layer.group_discard(topic, self.channel_name)

    async def live_event(self, event):
        await self.send_json(event["payload"])
