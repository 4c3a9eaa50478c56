"""A connected dashboard follows the estate: a rotation finishing, a request waiting for approval
and a sync ending re-render the tiles and the charts (their tables carry the numbers) on the
socket within a second, with no polling.

The run goes through the real engine (rotation.services.engine: its outcome transaction and the
publish after commit), the recompute through a real Celery worker on the session's Redis broker,
then the real Redis channel layer and the real consumer; the run's strategy is the rotation
tests' `counting` one, because what is under test is the path from a run ending to the page, not
a backend write (tests/rotation covers those)."""

import re
import time

import pytest
from asgiref.sync import async_to_sync, sync_to_async

from console import live
from secrets_admin.dashboard.live import TOPIC
from secrets_admin.inventory.models import RotationPolicy
from secrets_admin.rotation.models import RotationRun
from secrets_admin.rotation.services import engine
from tests.accounts.factories import verified_client
from tests.dashboard import estate
from tests.dashboard.conftest import wait_for
from tests.live_client import live_query, open_live
from tests.rotation.conftest import counting  # noqa: F401  (the test strategy's fixture)

pytestmark = pytest.mark.django_db(transaction=True)  # the consumer and worker read from other threads
VIEWS = ("tiles", "age", "trend")


def _success_7_days(html: str) -> str:
    return re.search(r'/dashboard/runs/\?days=7">([^<]+)<', html).group(1)


def _today(html: str) -> tuple[int, int]:
    """The trend table's last row (today): finished, failed."""
    rows = re.findall(
        r'<tr><th scope="row">[^<]+</th><td data-value="(\d+)">\d+</td><td data-value="(\d+)">', html
    )
    return tuple(int(n) for n in rows[-1])


async def _messages(socket, count: int, timeout: float) -> dict[str, str]:
    """The next `count` fragments, by their root id."""
    found = {}
    for _ in range(count):
        html = await socket.receive_from(timeout=timeout)
        found[re.search(r'<div id="([a-z-]+)"', html).group(1)] = html
    return found


def test_a_rotation_finishing_updates_the_tiles_and_charts_of_a_connected_dashboard(
    counting,  # noqa: F811
    dashboard_worker,
):
    policy = RotationPolicy.objects.get(kind="api_key", is_default=True)
    secret = estate.secret("secret/dashboard/live", rotation_policy=policy)
    estate.run(secret, "failed", days_ago=0, error="an earlier failure")
    run = RotationRun.objects.create(secret=secret, strategy="counting")
    manager = verified_client(estate.person("manager", "managers"))
    manager.get("/")  # the page stores the figures its socket starts from
    seq = live.current_seq(TOPIC)

    async def scenario():
        socket = await open_live(manager, live_query(TOPIC, *VIEWS, seq=seq))
        quiet = await socket.receive_nothing(timeout=0.3)  # the page is current: nothing sent
        result = await sync_to_async(engine.advance)(run.pk)
        started = time.monotonic()
        found = await _messages(socket, len(VIEWS), timeout=1)  # the bound: within 1 s
        elapsed = time.monotonic() - started
        then = await _messages(socket, len(VIEWS), timeout=2)  # the charts' own round
        await socket.disconnect()
        return quiet, result, found, elapsed, then

    quiet, result, found, elapsed, then = async_to_sync(scenario)()
    assert set(then) == set(found) and 'data-table="age-table-api_key"' in then["dashboard-age"]
    assert quiet and result["state"] == "finished" and elapsed < 1
    assert set(found) == {"dashboard-tiles", "dashboard-age", "dashboard-trend"}
    for html in found.values():
        assert 'hx-swap-oob="innerHTML"' in html
    assert _success_7_days(found["dashboard-tiles"]) == "50.0%"  # one failed, then this one finished
    trend = then["dashboard-trend"]  # the charts' round, after the tiles'
    assert _today(trend) == (1, 1) and 'data-table="trend-table"' in trend  # the chart's numbers
    assert "Failing now (0)" in trend  # the later run that finished clears the failure
    assert _today(found["dashboard-trend"]) == (0, 1)  # the first round still showed the old chart
    assert RotationRun.objects.get(pk=run.pk).state == "finished"


def test_a_request_waiting_for_approval_updates_the_pending_tile(dashboard_worker):
    from breakglass import live as breakglass_live

    security = verified_client(estate.person("sec", "security-team"))
    requester = estate.person("dev", "developers")
    security.get("/")

    async def scenario():
        socket = await open_live(security, live_query(TOPIC, "tiles", seq=live.current_seq(TOPIC)))
        await sync_to_async(estate.access_request)(requester, "pending")
        await sync_to_async(breakglass_live.changed)()  # what the request service calls after commit
        html = await socket.receive_from(timeout=1)
        await socket.disconnect()
        return html

    html = async_to_sync(scenario)()
    assert re.search(r'\?status=pending">1<', html)


def test_sockets_and_pages_read_one_stored_computation_per_event(dashboard_worker, monkeypatch):
    from secrets_admin.dashboard import live as dashboard_live
    from secrets_admin.dashboard import tiles
    from secrets_admin.dashboard.services import refresh, snapshot

    snapshot.recompute()  # both sets stored: what follows counts the live set's recomputes
    computed = []
    original = refresh.recompute_parts
    monkeypatch.setattr(
        refresh, "recompute_parts", lambda parts, *a: computed.append(sorted(parts)) or original(parts, *a)
    )
    first = tiles.shared_numbers()
    estate.secret("secret/dashboard/new")
    assert tiles.shared_numbers() == first and not computed  # no event yet: the stored row
    dashboard_live.changed("sync")
    wait_for(lambda: tiles.shared_numbers()["secrets"]["total"] == first["secrets"]["total"] + 1)
    wait_for(lambda: len(computed) == 2)
    assert computed == [["rotations", "secrets"], ["age"]]  # the tiles first, then the histogram
