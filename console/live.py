"""The live layer: topics that pages follow over /ws/live/, who may receive each, and how
services tell the followers that something changed.

A topic is registered once, from its app's `ready()`: its name, the groups that may receive it
(the same groups as the pages that show that data; a user in none of them receives nothing) and
its views — functions that render the HTML fragments a page swaps in, from the same templates
the page itself renders, so a label has one source.

Services call `publish(topic)` from `transaction.on_commit`. What travels through Redis is the
topic, a sequence number and small ids: never a secret value and never HTML. Each socket renders
its views from the database when the sequence moves, so a socket that was away (reconnecting,
or slow) shows the current state, not a replay of what it missed.
"""

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.cache import cache

log = logging.getLogger(__name__)

TOPIC_NAME = re.compile(r"^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)*$")
UNKNOWN_SEQ = -1  # "the page does not know": the socket sends its views on connect

View = Callable[[Mapping[str, str]], str]


class BadRequest(ValueError):
    """A view's parameters are malformed (the socket is closed with 4400)."""


@dataclass(frozen=True)
class Topic:
    name: str
    groups: frozenset[str]
    views: Mapping[str, View] = field(default_factory=dict)

    @property
    def channel_group(self) -> str:
        return f"live.{self.name}"


TOPICS: dict[str, Topic] = {}


def register(name: str, *, groups, views: Mapping[str, View]) -> Topic:
    """Declare a topic. `groups`: the Django groups whose members may receive it (at least one);
    `views`: name -> render(params) returning HTML whose one top-level element carries an `id`
    and `hx-swap-oob` (each view travels as its own websocket message). Registering the same
    name twice with other groups is a programming error."""
    groups = frozenset(groups)
    if not TOPIC_NAME.match(name) or len(name) > 80:
        raise ValueError(f"{name!r} is not a topic name (lowercase words separated by dots)")
    if not groups:
        raise ValueError(f"topic {name!r} names no group: nobody could receive it")
    if not views:
        raise ValueError(f"topic {name!r} has no views: a page would have nothing to show")
    topic = Topic(name, groups, dict(views))
    existing = TOPICS.get(name)
    if existing is not None and existing.groups != groups:
        raise ValueError(f"topic {name!r} is already registered for {sorted(existing.groups)}")
    TOPICS[name] = topic
    return topic


def _seq_key(topic: str) -> str:
    return f"live:seq:{topic}"


def current_seq(topic: str) -> int:
    """The topic's sequence number now (0 before the first publish; UNKNOWN_SEQ if Redis is away)."""
    try:
        return int(cache.get(_seq_key(topic), 0))
    except Exception:  # a page must render without Redis; its socket then sends a fresh view
        log.warning("could not read the live sequence of %s", topic, exc_info=True)
        return UNKNOWN_SEQ


def publish(topic: str, payload: dict | None = None) -> int:
    """Tell every socket following `topic` that its data changed; returns the new sequence number.
    Call from transaction.on_commit, after the change is visible to other connections.

    `payload` is for logs and future JSON clients: ids, counts and states only, never a value."""
    if topic not in TOPICS:
        raise ValueError(f"unknown live topic {topic!r}: register it first")
    key = _seq_key(topic)
    cache.add(key, 0, timeout=None)
    seq = cache.incr(key)
    layer = get_channel_layer()
    if layer is not None:
        message = {"type": "live.changed", "topic": topic, "seq": seq, "payload": payload or {}}
        async_to_sync(layer.group_send)(TOPICS[topic].channel_group, message)
    return seq


def socket_url(topic: str, *views: str, **params) -> str:
    """The /ws/live/ address a page connects to: the topic, the views it shows, the sequence
    number its server-rendered HTML was built at, and view parameters. Call it in the view
    *before* the page's queries run, so a change made in between is sent when the socket opens."""
    if topic not in TOPICS or not set(views) <= set(TOPICS[topic].views):
        raise ValueError(f"unknown live topic or view: {topic} {views}")
    query = [("topic", topic), *(("view", v) for v in views), ("seq", current_seq(topic))]
    query += [(key, str(value)) for key, value in params.items()]
    return "/ws/live/?" + urlencode(query)
