"""A real browser (Playwright + Debian's chromium) on the audit page: filter with the form,
open an entry, download a CSV export — and check the database after each step."""

import threading
import time

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Group, User
from django.db import transaction
from django.test import Client

from secrets_admin.audit import actions, sequencer, services
from secrets_admin.audit.models import AuditEntry
from secrets_admin.audit.verification import verify
from tests.audit.conftest import THING_DONE, THING_UNDONE
from tests.markers import launch_chromium, requires_chromium


@requires_chromium
@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_manager_filters_opens_an_entry_and_exports_csv(live_server, tmp_path):
    from playwright.sync_api import sync_playwright

    frank = User.objects.create_user("frank", password="x" * 16)
    frank.groups.add(Group.objects.get_or_create(name="managers")[0])
    stop = threading.Event()  # the sequencer loop, as `make run` runs it beside the web process
    loop = threading.Thread(target=sequencer.run, kwargs={"interval": 0.05, "stop": stop})
    loop.start()
    with transaction.atomic():
        services.record(THING_DONE, actor="celery:sync", data={"n": 1})
        services.record(THING_UNDONE, actor="celery:sync", data={"n": 2})
    deadline = time.monotonic() + 10
    while AuditEntry.objects.pending().exists():
        assert time.monotonic() < deadline, "the sequencer loop did not link the entries"
        time.sleep(0.05)
    verify(full=True)
    client = Client()
    client.force_login(frank)  # the login flow itself is the accounts browser test
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME].value

    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        context = browser.new_context(accept_downloads=True)
        host = live_server.url.split("//")[1].split(":")[0]
        context.add_cookies(
            [{"name": django_settings.SESSION_COOKIE_NAME, "value": cookie, "domain": host, "path": "/"}]
        )
        page = context.new_page()
        page.set_default_timeout(15000)
        csp = []
        page.on("console", lambda m: csp.append(m.text) if "Content Security Policy" in m.text else None)
        try:
            page.goto(f"{live_server.url}/audit/")
            assert page.locator("#chain-status .badge").inner_text() == "intact"
            page.get_by_label("Action").select_option("test.thing.undone")  # a dropdown of those present
            page.get_by_role("button", name="Filter").click()
            page.wait_for_url("**/audit/?*action=test.thing.undone*")
            rows = page.locator("tbody tr")
            assert rows.count() == 1 and "test.thing.undone" in rows.first.inner_text()

            rows.first.get_by_role("link").first.click()
            page.wait_for_url("**/audit/*/")
            assert page.locator("h1").inner_text().endswith("test.thing.undone")
            page.go_back()

            with page.expect_download() as download:
                page.get_by_role("link", name="Export CSV").click()
            saved = tmp_path / "export.csv"
            download.value.save_as(saved)
            lines = saved.read_text().splitlines()
            assert lines[0].startswith("sequence,created_at,actor_name,action") and len(lines) == 2
            assert "test.thing.undone" in lines[1]
        finally:
            browser.close()
            stop.set()
            loop.join(10)
    export = AuditEntry.objects.get(action=actions.EXPORTED)
    assert export.actor_name == "frank" and export.data["filter"] == {"action": "test.thing.undone"}
    assert csp == []
