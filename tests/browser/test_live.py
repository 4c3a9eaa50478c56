"""The live layer in a real browser on the real stack: a socket that stays up while the page is
open, new runs in the table within a second, a page that catches up after its socket was away,
and a client that ignores what it does not know."""

import time

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import query, web_log
from tests.markers import requires_chromium

pytestmark = [pytest.mark.slow, pytest.mark.browser, requires_chromium]

LIVE_ON = "Live updates: on."


def newest_run(stack, backend) -> tuple[int, str]:
    rows = query(
        stack, "SELECT id, state FROM inventory_syncrun WHERE backend = ? ORDER BY id DESC LIMIT 1", backend
    )
    return rows[0] if rows else (0, "")


def wait_until(predicate, timeout, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"not within {timeout} s")


def test_a_live_page_keeps_one_socket_open_for_a_minute(stack, frank):
    log_before = len(web_log(stack))
    page = frank.page()
    sockets, closed = [], []
    page.on("websocket", lambda ws: (sockets.append(ws.url), ws.on("close", lambda _: closed.append(ws.url))))
    page.goto(f"{stack.url}/inventory/runs/")
    page.wait_for_selector(f"text={LIVE_ON}")
    page.wait_for_timeout(60_000)  # idle: nothing is published, the socket only waits

    assert len(sockets) == 1 and closed == [], (sockets, closed)
    assert page.inner_text("[data-live-state]") == LIVE_ON
    frank.watch.assert_clean(page)
    page.close()
    new_lines = web_log(stack)[log_before:]
    assert not [line for line in new_lines if "Traceback" in line or "Error" in line], "\n".join(new_lines)


def test_a_new_run_appears_within_a_second_and_reads_like_the_page(stack, carol, frank):
    watching = frank.page()
    watching.goto(f"{stack.url}/inventory/runs/")
    watching.wait_for_selector(f"text={LIVE_ON}")
    before, _ = newest_run(stack, "aws")

    pressing = carol.page()
    pressing.goto(f"{stack.url}/inventory/runs/")
    pressing.click("button:has-text('Sync aws now')")
    run_id = wait_until(
        lambda: newest_run(stack, "aws")[0] if newest_run(stack, "aws")[0] > before else 0, 30
    )
    seen_in_db = time.monotonic()
    watching.wait_for_selector(f'#run-rows tr[data-run="{run_id}"]', timeout=1000)
    assert time.monotonic() - seen_in_db < 1.0

    row = watching.locator(f'#run-rows tr[data-run="{run_id}"]')
    wait_until(lambda: newest_run(stack, "aws")[1] not in ("", "running"), 30)
    expect(row).to_contain_text("Succeeded", timeout=10000)  # a locator wait: the CSP forbids eval
    live_words = row.inner_text()
    # The banner is its own fragment: it may arrive a moment after the row.
    expect(watching.locator("#sync-live")).to_contain_text(f"Sync run #{run_id} of aws: Succeeded")
    banner = watching.inner_text("#sync-live")
    assert f"Sync run #{run_id} of aws: Succeeded" in banner and "created 0, changed 0" in banner
    watching.reload()
    assert watching.locator(f'#run-rows tr[data-run="{run_id}"]').inner_text() == live_words
    assert query(stack, "SELECT state, actor FROM inventory_syncrun WHERE id = ?", run_id) == [
        ("succeeded", "celery:inventory.sync")
    ]
    assert query(
        stack,
        "SELECT actor_name FROM audit_auditentry WHERE action = 'inventory.sync.requested'"
        " ORDER BY sequence DESC LIMIT 1",
    ) == [("carol",)]
    frank.watch.assert_clean(watching)
    carol.watch.assert_clean(pressing)
    watching.close()
    pressing.close()


def test_after_its_socket_was_away_the_page_shows_what_happened_meanwhile(stack, carol, frank):
    state = {"away": False, "routes": []}

    def route(ws):
        state["routes"].append(ws)
        if state["away"]:
            ws.close(code=1012, reason="service restart")  # htmx reconnects after this code
        else:
            ws.connect_to_server()

    page = frank.page()
    page.route_web_socket("**/ws/live/**", route)
    page.goto(f"{stack.url}/inventory/runs/")
    page.wait_for_selector(f"text={LIVE_ON}")

    # The server goes away: every reconnect is refused until it is back.
    state["away"] = True
    state["routes"][-1].close(code=1012, reason="service restart")
    page.wait_for_selector("text=Live updates: reconnecting…")
    before, _ = newest_run(stack, "vault")
    pressing = carol.page()
    pressing.goto(f"{stack.url}/inventory/runs/")
    pressing.click("button:has-text('Sync vault now')")
    run_id = wait_until(
        lambda: newest_run(stack, "vault")[0] if newest_run(stack, "vault")[0] > before else 0, 30
    )
    wait_until(lambda: newest_run(stack, "vault")[1] not in ("", "running"), 60)
    assert page.locator(f'tr[data-run="{run_id}"]').count() == 0  # every event of that run was missed

    # Back: the next reconnect reaches the server, which sends the state as it is now.
    state["away"] = False
    page.wait_for_selector(f'#run-rows tr[data-run="{run_id}"]', timeout=15000)
    page.wait_for_selector(f"text={LIVE_ON}")
    row = page.locator(f'#run-rows tr[data-run="{run_id}"]').inner_text()
    assert "Succeeded" in row or "Finished with errors" in row
    assert f"Sync run #{run_id} of vault" in page.inner_text("#sync-live")
    pressing.close()
    page.close()
    frank.watch.problems.clear()  # the refused reconnects are the point of this test


def test_the_page_ignores_messages_it_does_not_know(stack, frank):
    routes = []

    def route(ws):
        routes.append(ws)
        ws.connect_to_server()

    page = frank.page()
    page.route_web_socket("**/ws/live/**", route)
    page.goto(f"{stack.url}/inventory/runs/")
    page.wait_for_selector(f"text={LIVE_ON}")
    table, banner = page.inner_html("#run-rows"), page.inner_html("#sync-live")
    for message in (
        '{"type": "subscribed", "topic": "inventory.sync"}',  # what the old script took for a run
        '<div id="nowhere" hx-swap-oob="true">lost</div>',  # a fragment for another page
        '<div id="sync-live">no hx-swap-oob: not a fragment</div>',
        "plain text",
    ):
        routes[-1].send(message)
    page.wait_for_timeout(500)
    assert page.inner_html("#run-rows") == table and page.inner_html("#sync-live") == banner
    assert "undefined" not in page.inner_text("main")
    frank.watch.assert_clean(page)
    page.close()
