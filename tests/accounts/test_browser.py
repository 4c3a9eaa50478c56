"""A real browser (Playwright + Debian's chromium): log in, enroll TOTP from the text key, log
out, log in again with a code — checking the database after each step."""

import re
import time

import pyotp
import pytest
from django.contrib.auth.models import Group, User
from django.db import connections

from secrets_admin.accounts.models import AuthenticatorDevice, RecoveryCode
from secrets_admin.audit.models import AuditEntry
from tests.markers import launch_chromium, requires_chromium

PASSWORD = "browser-password-1234"


@pytest.fixture
def browser_page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(15000)
        csp_errors = []
        page.on(
            "console", lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None
        )
        try:
            yield page, csp_errors
        finally:
            context.close()
            browser.close()
            # Inside sync_playwright the test runs in another context (greenlet), so Django opened
            # a second connection there; close it, or PostgreSQL cannot drop the test database.
            connections.close_all()


def log_in(page, base):
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_login", "bob")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]:has-text('Log in')")


@requires_chromium
@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_log_in_enroll_log_out_and_log_in_again_with_a_code(live_server, settings, browser_page):
    settings.MFA_REQUIRED = True
    page, csp_errors = browser_page
    bob = User.objects.create_user("bob", "bob@candlefish.example", PASSWORD)
    bob.groups.add(Group.objects.get(name="developers"))
    base = live_server.url

    # 1. password → forced enrollment (no device yet)
    log_in(page, base)
    page.wait_for_url(re.compile(r"/accounts/mfa/enroll/"))
    assert AuthenticatorDevice.objects.filter(user=bob, confirmed=False).count() == 1
    assert page.locator("img.cf-qr").get_attribute("src").startswith("data:image/svg+xml")
    assert page.locator("text=Every account needs a second factor").is_visible()

    # 2. read the key as text, compute the code with an independent client
    key = page.locator("#totp-key").inner_text().replace(" ", "")
    totp = pyotp.TOTP(key)
    page.fill("#id_code", totp.now())
    page.click("button:has-text('Confirm')")
    page.wait_for_selector("#recovery-codes")
    device = AuthenticatorDevice.objects.get(user=bob)
    assert device.confirmed is True and device.base32_key == key
    assert page.locator("#recovery-codes li").count() == 10
    assert RecoveryCode.objects.filter(device__user=bob, used_at=None).count() == 10
    page.click("a:has-text('I saved them')")
    page.wait_for_selector("text=Welcome")

    # 3. log out
    page.click("nav button:has-text('Log out')")
    page.wait_for_url(re.compile(r"/accounts/login/"))
    assert AuditEntry.objects.filter(action="auth.logout", actor=bob).count() == 1

    # 4. log in again: password, then a code (the next step's: the enrollment code is spent)
    log_in(page, base)
    page.wait_for_url(re.compile(r"/accounts/mfa/verify/"))
    assert AuditEntry.objects.filter(action="mfa.login.verified").count() == 0
    page.fill("#id_code", totp.at(time.time(), counter_offset=1))
    page.click("button:has-text('Verify')")
    page.wait_for_selector("text=Welcome")
    assert page.locator("nav .navbar-text").inner_text() == "bob"
    verified = AuditEntry.objects.filter(action="mfa.login.verified", actor=bob).get()
    assert verified.data == {"device": "authenticator"}
    device.refresh_from_db()
    assert device.confirmed and device.last_t >= 0 and device.throttling_failure_count == 0
    assert csp_errors == []
