"""A connected dashboard follows the estate: a rotation finishing, a request waiting for approval
and a sync ending re-render the tiles on the socket within a second, with no polling.

The run goes through the real engine (rotation.services.engine: its outcome transaction and the
publish after commit), the real Redis channel layer and the real consumer; its strategy is the
rotation tests' `counting` one, because what is under test is the path from a run ending to the
page, not a backend write (tests/rotation covers those)."""

import re

import pytest
from asgiref.sync import async_to_sync, sync_to_async

from console import live
from secrets_admin.dashboard.live import TOPIC
from secrets_admin.inventory.models import RotationPolicy
from secrets_admin.rotation.models import RotationRun
from secrets_admin.rotation.services import engine
from tests.accounts.factories import verified_client
from tests.dashboard import estate
from tests.live_client import live_query, open_live
from tests.rotation.conftest import counting  # noqa: F401  (the test strategy's fixture)

pytestmark = pytest.mark.django_db(transaction=True)  # the consumer reads the DB from another thread


def _success_7_days(html: str) -> str:
    return re.search(r'/dashboard/runs/\?days=7">([^<]+)<', html).group(1)


def test_a_rotation_finishing_updates_a_connected_dashboard(counting):  # noqa: F811
    policy = RotationPolicy.objects.get(kind="api_key", is_default=True)
    secret = estate.secret("secret/dashboard/live", rotation_policy=policy)
    estate.run(secret, "failed", days_ago=1, error="an earlier failure")
    run = RotationRun.objects.create(secret=secret, strategy="counting")
    manager = verified_client(estate.person("manager", "managers"))
    seq = live.current_seq(TOPIC)

    async def scenario():
        socket = await open_live(manager, live_query(TOPIC, "tiles", seq=seq))
        quiet = await socket.receive_nothing(timeout=0.3)  # the page is current: nothing sent
        result = await sync_to_async(engine.advance)(run.pk)
        html = await socket.receive_from(timeout=1)  # the bound: within 1 s
        await socket.disconnect()
        return quiet, result, html

    quiet, result, html = async_to_sync(scenario)()
    assert quiet and result["state"] == "finished"
    assert html.startswith('<div id="dashboard-tiles"') and 'hx-swap-oob="innerHTML"' in html
    assert _success_7_days(html) == "50.0%"  # one failed, then this one finished
    assert RotationRun.objects.get(pk=run.pk).state == "finished"


def test_a_request_waiting_for_approval_updates_the_pending_tile():
    from breakglass import live as breakglass_live

    security = verified_client(estate.person("sec", "security-team"))
    requester = estate.person("dev", "developers")

    async def scenario():
        socket = await open_live(security, live_query(TOPIC, "tiles", seq=live.current_seq(TOPIC)))
        await sync_to_async(estate.access_request)(requester, "pending")
        await sync_to_async(breakglass_live.changed)()  # what the request service calls after commit
        html = await socket.receive_from(timeout=1)
        await socket.disconnect()
        return html

    html = async_to_sync(scenario)()
    assert re.search(r'\?status=pending">1<', html)


def test_sockets_and_pages_read_one_stored_computation_per_event(monkeypatch):
    from secrets_admin.dashboard import live as dashboard_live
    from secrets_admin.dashboard import tiles
    from secrets_admin.dashboard.services import snapshot

    snapshot.recompute()  # both sets stored: what follows counts the live set's recomputes
    computed = []
    original = snapshot.compute
    monkeypatch.setattr(snapshot, "compute", lambda *args: computed.append(1) or original(*args))
    dashboard_live.changed("test")  # recomputes and stores
    first = tiles.shared_numbers()
    estate.secret("secret/dashboard/new")
    assert tiles.shared_numbers() == first and len(computed) == 1  # no event yet: the stored row
    dashboard_live.changed("test")
    assert tiles.shared_numbers()["secrets"]["total"] == first["secrets"]["total"] + 1
    assert len(computed) == 2
