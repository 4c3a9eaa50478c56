"""Publish small JSON events to websocket subscribers of a topic."""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer


def publish(topic: str, payload: dict) -> None:
    """Send `payload` to every socket subscribed to `topic`. Call from transaction.on_commit.

    Payloads carry ids, counts and states only; never a secret value.
    """
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(topic, {"type": "live.event", "payload": {"topic": topic, **payload}})
