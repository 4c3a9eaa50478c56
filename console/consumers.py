"""The live channel: pages subscribe to topics and get small JSON events (never secret values).

Topics are group names such as `inventory.sync`; services publish with `console.live.publish`
from `transaction.on_commit`. A socket is served only to a session that would be let through
to pages: logged in and, when the user has a device (or MFA is required), OTP-verified.
Others are told so and closed (code 4401).
"""

import re

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django_otp import DEVICE_ID_SESSION_KEY, user_has_device
from django_otp.models import Device

TOPIC = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")


class LiveConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        await self.accept()
        self.topics = set()
        self.allowed = authenticated = await database_sync_to_async(self._may_listen)()
        await self.send_json({"type": "hello", "authenticated": authenticated})
        if not authenticated:
            await self.close(code=4401)

    def _may_listen(self) -> bool:
        user = self.scope.get("user")
        if not (user and user.is_authenticated):
            return False
        session = self.scope.get("session")
        device_id = session.get(DEVICE_ID_SESSION_KEY) if session else None
        device = Device.from_persistent_id(device_id) if device_id else None
        verified = device is not None and device.user_id == user.pk  # as django_otp's middleware checks
        if user_has_device(user, confirmed=True):
            return verified
        return verified or not settings.MFA_REQUIRED

    async def receive_json(self, content, **kwargs):
        if not getattr(self, "allowed", False):
            return
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
