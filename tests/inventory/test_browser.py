"""`make run` end to end in a real browser: the whole stack (real OpenBao, moto, Redis, Daphne,
worker, beat; seed_demo syncs the demo estate), Playwright with Debian's chromium as carol
(security-team, TOTP from the demo key): the list shows the seeded estate, "Sync now" goes
through the worker and the page's websocket script shows the finished run; the database agrees."""

import re
import signal
import sqlite3
import time

import pyotp
import pytest

from console.stack.servers import free_port
from tests.console.test_stack import Stack
from tests.markers import launch_chromium, requires_chromium

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def demo_key(data_dir, username) -> str:
    text = (data_dir / "demo-logins.txt").read_text()
    return re.search(rf"^\s+{username}\s+([A-Z2-7]{{32}})\s", text, re.M).group(1)


def query(data_dir, sql):
    with sqlite3.connect(data_dir / "console.sqlite3") as db:
        return db.execute(sql).fetchall()


@requires_chromium
def test_the_seeded_estate_and_a_live_sync_in_the_browser(tmp_path):
    from playwright.sync_api import sync_playwright

    data = tmp_path / "data"
    stack = Stack(data, free_port())
    try:
        stack.start()
        seeded = query(data, "SELECT backend, state, created FROM inventory_syncrun ORDER BY id")
        assert {row[0] for row in seeded} == {"vault", "aws"} and sum(row[2] for row in seeded) >= 40
        with sync_playwright() as pw:
            browser = launch_chromium(pw)
            page = browser.new_page()
            page.set_default_timeout(20000)
            csp = []
            page.on("console", lambda m: csp.append(m.text) if "Content Security Policy" in m.text else None)
            page.goto(f"{stack.url}/accounts/login/")
            page.fill("#id_login", "carol")
            page.fill("#id_password", "candlefish-demo")
            page.click("button[type=submit]:has-text('Log in')")
            page.fill("input[autocomplete=one-time-code]", pyotp.TOTP(demo_key(data, "carol")).now())
            page.click("button[type=submit]:has-text('Verify')")
            page.wait_for_url(f"{stack.url}/")

            page.goto(f"{stack.url}/inventory/?q=billing-ftp")
            assert "Needs attention" in page.inner_text("main")
            page.click("a:has-text('secret/legacy/billing-ftp-password')")
            assert "is not one of development|staging|production" in page.inner_text("main")
            page.goto(f"{stack.url}/inventory/?kind=certificate")
            assert page.locator("tbody tr").count() >= 5

            page.goto(f"{stack.url}/inventory/runs/")
            time.sleep(1)  # the socket subscribes after the page loads
            page.click("button:has-text('Sync aws now')")
            live = page.locator("#sync-live")
            deadline = time.monotonic() + 30
            while "finished" not in live.inner_text() and time.monotonic() < deadline:
                time.sleep(0.2)
            text = live.inner_text()
            browser.close()
        assert re.search(
            r"Sync run #\d+ of aws finished \(succeeded\): seen \d+, created 0, changed 0", text
        ), text
        assert csp == []
        runs = query(
            data, "SELECT state, actor FROM inventory_syncrun WHERE backend = 'aws' ORDER BY id DESC LIMIT 1"
        )
        assert runs == [("succeeded", "celery:inventory.sync")]
        assert query(
            data, "SELECT actor_name FROM audit_auditentry WHERE action = 'inventory.sync.requested'"
        ) == [("carol",)]
        assert stack.stop(signal.SIGTERM) == 0
    finally:
        stack.kill()
