"""The live socket over the real ASGI application and the real Redis channel layer: who may
follow a topic (the same rules as pages), what a follower receives, and that it keeps receiving
after idling longer than Redis' default read timeout."""

import asyncio

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.contrib.auth.models import Group, User
from django.test import Client
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY

from console import live
from secrets_admin.inventory.models import SyncRun
from tests.accounts.factories import make_device
from tests.live_client import closed_with, live_query, open_live
from tests.permission_matrix import ALL, LIVE_TOPICS

pytestmark = pytest.mark.django_db(transaction=True)  # the consumer reads the DB from another thread


@pytest.fixture
def counter():
    """A topic of our own, `test.counter`, for developers only; its one view renders `state`."""
    state = {"n": 0, "renders": 0}

    def view(params):
        state["renders"] += 1
        return f'<div id="counter" hx-swap-oob="true">{state["n"]}</div>'

    live.register("test.counter", groups={"developers"}, views={"count": view})
    yield state
    live.TOPICS.pop("test.counter", None)


def signed_in(username, *groups, device=True, verified=True) -> Client:
    user = User.objects.create_user(username, password="x" * 16)
    for name in groups:
        user.groups.add(Group.objects.get(name=name))
    client = Client()
    client.force_login(user)
    if device:
        dev = make_device(user)
        if verified:
            session = client.session
            session[DEVICE_ID_SESSION_KEY] = dev.persistent_id
            session.save()
    return client


def refusal(client, query) -> int:
    async def scenario():
        socket = await open_live(client, query)
        code = await closed_with(socket)
        await socket.disconnect()
        return code

    return async_to_sync(scenario)()


def test_refusals_carry_a_code_the_page_can_explain(counter, settings):
    query = live_query("test.counter", "count")
    assert refusal(Client(), query) == 4401  # anonymous
    assert refusal(signed_in("unverified", "developers", verified=False), query) == 4401
    assert refusal(signed_in("nobody"), query) == 4403  # verified, in no group
    assert refusal(signed_in("manager", "managers"), query) == 4403  # not one of the topic's groups
    dev = signed_in("dev", "developers")
    assert refusal(dev, live_query("test.nothing", "count")) == 4404
    assert refusal(dev, live_query("test.counter", "other")) == 4404
    assert refusal(dev, live_query("test.counter")) == 4404  # no view
    settings.MFA_REQUIRED = True
    assert refusal(signed_in("no-device", "developers", device=False), query) == 4401


def test_a_user_in_no_group_receives_nothing_that_is_published(counter):
    nobody = signed_in("nobody")

    async def scenario():
        socket = await open_live(nobody, live_query("test.counter", "count"))
        assert await closed_with(socket) == 4403
        await sync_to_async(live.publish)("test.counter")
        assert await socket.receive_nothing(timeout=0.5)
        await socket.disconnect()

    async_to_sync(scenario)()
    assert counter["renders"] == 0


def test_a_follower_gets_the_current_state_then_every_change(counter):
    dev = signed_in("dev", "developers")

    async def scenario():
        socket = await open_live(dev, live_query("test.counter", "count", seq=-1))
        first = await socket.receive_from()  # the page's seq is unknown: the current state
        counter["n"] = 7
        await sync_to_async(live.publish)("test.counter", {"n": 7})
        second = await socket.receive_from(timeout=5)
        await socket.disconnect()
        return first, second

    first, second = async_to_sync(scenario)()
    assert first == '<div id="counter" hx-swap-oob="true">0</div>'
    assert second == '<div id="counter" hx-swap-oob="true">7</div>'


def test_a_page_rendered_at_the_current_sequence_gets_nothing_until_a_change(counter):
    live.publish("test.counter")
    seq = live.current_seq("test.counter")

    dev = signed_in("dev", "developers")

    async def scenario():
        socket = await open_live(dev, live_query("test.counter", "count", seq=seq))
        quiet = await socket.receive_nothing(timeout=0.5)
        await sync_to_async(live.publish)("test.counter")
        changed = await socket.receive_from(timeout=5)
        await socket.disconnect()
        return quiet, changed

    quiet, changed = async_to_sync(scenario)()
    assert quiet and "counter" in changed


def test_a_page_behind_the_sequence_is_brought_up_to_date_on_connect(counter):
    """What a reconnect after a gap looks like: the page's seq is older than the topic's."""
    seq = live.current_seq("test.counter")
    counter["n"] = 3
    live.publish("test.counter")  # happened while the page had no socket

    dev = signed_in("dev", "developers")

    async def scenario():
        socket = await open_live(dev, live_query("test.counter", "count", seq=seq))
        html = await socket.receive_from(timeout=5)
        await socket.disconnect()
        return html

    assert async_to_sync(scenario)().endswith(">3</div>")


def test_a_burst_of_changes_costs_one_render_per_socket_not_one_per_change(counter):
    dev = signed_in("dev", "developers")

    async def scenario():
        socket = await open_live(dev, live_query("test.counter", "count"))
        await socket.receive_from()
        before = counter["renders"]
        counter["n"] = 99

        def burst():
            for _ in range(20):
                live.publish("test.counter")

        await sync_to_async(burst)()
        received = [await socket.receive_from(timeout=5)]
        while not await socket.receive_nothing(timeout=0.5):
            received.append(await socket.receive_from())
        await socket.disconnect()
        return received, counter["renders"] - before

    received, renders = async_to_sync(scenario)()
    assert received[-1].endswith(">99</div>")
    assert renders == len(received) and renders < 20


def test_an_idle_socket_still_receives_after_more_than_redis_read_timeout(counter):
    """redis-py 8 gives reads a 5 s timeout and channels-redis blocks 5 s in BZPOPMIN: before the
    channel layer was configured for it, this socket died at the first idle read."""

    dev = signed_in("dev", "developers")

    async def scenario():
        socket = await open_live(dev, live_query("test.counter", "count"))
        await socket.receive_from()
        await asyncio.sleep(7)
        counter["n"] = 1
        await sync_to_async(live.publish)("test.counter")
        html = await socket.receive_from(timeout=5)
        await socket.disconnect()
        return html

    assert async_to_sync(scenario)().endswith(">1</div>")


def test_the_socket_closes_when_its_user_leaves_the_group_or_logs_out(counter, settings):
    settings.LIVE_RECHECK_SECONDS = 0.2
    dev = signed_in("dev", "developers")
    other = signed_in("dev2", "developers")
    dev_user = User.objects.get(username="dev")

    async def scenario():
        removed = await open_live(dev, live_query("test.counter", "count"))
        await removed.receive_from()
        logged_out = await open_live(other, live_query("test.counter", "count"))
        await logged_out.receive_from()
        await sync_to_async(dev_user.groups.clear)()
        await sync_to_async(other.logout)()
        codes = await closed_with(removed), await closed_with(logged_out)
        await removed.disconnect()
        await logged_out.disconnect()
        return codes

    assert async_to_sync(scenario)() == (4403, 4401)


def test_topics_must_name_groups_and_views():
    with pytest.raises(ValueError, match="names no group"):
        live.register("test.empty", groups=(), views={"v": str})
    with pytest.raises(ValueError, match="not a topic name"):
        live.register("Test Topic", groups={"developers"}, views={"v": str})
    with pytest.raises(ValueError, match="already registered"):
        live.register("inventory.sync", groups={"managers"}, views={"v": str})
    with pytest.raises(ValueError, match="unknown live topic"):
        live.publish("test.unregistered")


def test_every_topic_is_for_console_groups_only():
    from secrets_admin.roles import GROUPS

    assert live.TOPICS, "the apps register their topics in ready()"
    for topic in live.TOPICS.values():
        assert topic.groups <= set(GROUPS), topic


def role_client(role) -> Client:
    if role == "anonymous":
        return Client()
    if role == "no_device":
        return signed_in("matrix-no-device", "developers", device=False)
    return signed_in(f"matrix-{role}", role)


@pytest.mark.parametrize("topic", sorted(LIVE_TOPICS))
def test_every_topic_answers_every_role_as_the_permission_matrix_says(settings, topic):
    settings.MFA_REQUIRED = True
    registered = live.TOPICS[topic]
    query = live_query(topic, *registered.views, since=timezone.now().isoformat(), run="1", grant="1")

    async def outcome(client):
        socket = await open_live(client, query)
        message = await socket.receive_output(5)
        await socket.disconnect()
        return message.get("code") if message["type"] == "websocket.close" else None

    clients = {role: role_client(role) for role in ALL}
    SyncRun.objects.create(pk=1, backend="vault", state="succeeded")
    found = {role: async_to_sync(outcome)(client) for role, client in clients.items()}
    assert found == LIVE_TOPICS[topic]
    assert async_to_sync(outcome)(signed_in("matrix-nobody")) == 4403


def test_every_registered_topic_is_in_the_permission_matrix():
    assert set(live.TOPICS) - {"test.counter"} == set(LIVE_TOPICS)
