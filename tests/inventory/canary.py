"""Canary helpers shared by the canary tests (inventory, rotation)."""

import asyncio

from asgiref.sync import async_to_sync


def receive_all(layer, channel, timeout: float = 1.0) -> list:
    """Every message waiting on a channel-layer channel (until none arrives within `timeout`)."""

    async def one():
        return await asyncio.wait_for(layer.receive(channel), timeout=timeout)

    out = []
    while True:
        try:
            out.append(async_to_sync(one)())
        except TimeoutError:
            return out
