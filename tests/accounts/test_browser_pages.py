"""What a person sees, in a real browser (Playwright + Debian's chromium): the login form by
keyboard, the warning before the lockout, code forms that clear a refused code and move the focus
to the error, recovery codes that do not come back with the Back button, the confirmation before
removing an authenticator, the unlock on Members, the 403 page and the audit log's sentences.
The database is checked after each step."""

import re

import pytest
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django.contrib.auth.models import Group, User
from django.db import connections
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY

from secrets_admin.accounts.models import AuthenticatorDevice, RecoveryCode
from secrets_admin.audit.models import AuditEntry
from tests.accounts.factories import PASSWORD, code_at_step, make_device
from tests.markers import launch_chromium, requires_chromium

pytestmark = [requires_chromium, pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def pages(live_server):
    """(new_page(user=None), problems): pages of one browser; `user` logs the page in with a
    verified session. `problems` collects page errors, console errors and CSP violations."""
    from playwright.sync_api import sync_playwright

    problems = []
    with sync_playwright() as pw:
        chromium = launch_chromium(pw)
        host = live_server.url.split("//")[1].split(":")[0]

        def new_page(user=None):
            context = chromium.new_context(viewport={"width": 1280, "height": 900})
            if user is not None:
                client = Client()
                client.force_login(user)
                device = AuthenticatorDevice.objects.filter(user=user, confirmed=True).first()
                if device is not None:
                    session = client.session
                    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
                    session.save()
                cookie = client.cookies[django_settings.SESSION_COOKIE_NAME].value
                context.add_cookies(
                    [
                        {
                            "name": django_settings.SESSION_COOKIE_NAME,
                            "value": cookie,
                            "domain": host,
                            "path": "/",
                        }
                    ]
                )
            page = context.new_page()
            page.set_default_timeout(15000)
            page.on("pageerror", lambda error: problems.append(f"pageerror: {error}"))
            page.on("console", lambda m: problems.append(m.text) if _is_problem(m) else None)
            return page

        try:
            yield new_page, problems
        finally:
            chromium.close()
            connections.close_all()  # Django opened a connection in Playwright's greenlet


def _is_problem(message) -> bool:
    # A refused form answers 400 and the lockout page 429 on purpose; chromium logs both.
    expected = re.match(
        r"Failed to load resource: the server responded with a status of (400|429)", message.text
    )
    return message.type == "error" and not expected


def member(username, *groups, device=True, full_name=""):
    first, _, last = full_name.partition(" ")
    user = User.objects.create_user(
        username, f"{username}@candlefish.example", PASSWORD, first_name=first, last_name=last
    )
    for name in groups:
        user.groups.add(Group.objects.get_or_create(name=name)[0])
    return user, (make_device(user) if device else None)


def focused(page) -> str:
    return page.evaluate(
        "() => { const e = document.activeElement;"
        " return e.id || e.getAttribute('href') || e.textContent.trim() || e.tagName; }"
    )


def test_the_login_form_by_keyboard_warns_before_the_lockout(pages, live_server, settings):
    new_page, problems = pages
    member("lockme", "developers")
    page = new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    assert focused(page) == "id_login"
    assert page.get_by_label("Username or email").get_attribute("autocomplete") == "username"
    assert page.get_by_role("link", name="Forgot your password?").count() == 1
    order = []
    for _ in range(4):
        page.keyboard.press("Tab")
        order.append(focused(page))
    assert order[0] == "id_password"
    assert order.index("Log in") < order.index("/accounts/password/reset/")  # the link after the button

    for attempt in range(1, settings.AXES_FAILURE_LIMIT):
        page.fill("#id_login", "LockMe")
        page.fill("#id_password", f"wrong-{attempt}")
        page.click("button[type=submit]:has-text('Log in')")
        page.wait_for_load_state()
        assert focused(page) == "form-errors"  # the focus moved to what went wrong
        warning = page.locator("#last-attempt")
        assert warning.count() == (1 if attempt == settings.AXES_FAILURE_LIMIT - 1 else 0)
    assert "One more wrong password locks this login for 15 minutes" in warning.inner_text()
    assert (
        AccessAttempt.objects.get(username="lockme").failures_since_start == settings.AXES_FAILURE_LIMIT - 1
    )

    page.fill("#id_login", "lockme@candlefish.example")
    page.fill("#id_password", "wrong-again")
    page.click("button[type=submit]:has-text('Log in')")
    assert "Too many failed logins" in page.inner_text("main")
    assert problems == []


def test_a_refused_code_is_cleared_and_the_focus_moves_to_the_error(pages, live_server):
    new_page, problems = pages
    carol, device = member("carol", "security-team")
    alice, _ = member("alice", "developers", device=False)
    page = new_page(carol)
    page.goto(f"{live_server.url}/accounts/members/")
    page.select_option("#id_user", str(alice.pk))
    page.select_option("#id_group", "cto")
    wrong = "000000" if code_at_step(device, 0) != "000000" else "111111"
    page.fill("#id_otp_code", wrong)
    page.click("#membership-form button[type=submit]")
    page.wait_for_selector("#id_otp_code_error")
    assert page.input_value("#id_otp_code") == ""  # the refused code is gone
    assert focused(page) == "id_otp_code_error"
    assert "That code is not right" in page.inner_text("#id_otp_code_error")
    assert not alice.groups.filter(name="cto").exists()
    assert AuditEntry.objects.filter(action="mfa.code.failed", actor=carol).count() == 1
    assert problems == []


def test_recovery_codes_do_not_come_back_with_the_back_button(pages, live_server):
    new_page, _ = pages
    bob, device = member("bob", "developers")
    page = new_page(bob)
    page.goto(f"{live_server.url}/accounts/mfa/")
    page.fill("#id_otp_code", code_at_step(device, 0))
    page.click("button:has-text('Generate new recovery codes')")
    page.wait_for_selector("#recovery-codes")
    shown = page.locator("#recovery-codes li").all_inner_texts()
    assert len(shown) == 10 and RecoveryCode.objects.filter(device__user=bob, used_at=None).count() == 10
    page.click("a:has-text('I saved them')")
    page.wait_for_url(f"{live_server.url}/accounts/mfa/")
    try:
        page.go_back()
    except Exception as exc:  # chromium refuses to show an unstored POST result: ERR_CACHE_MISS
        assert "ERR_CACHE_MISS" in str(exc), exc
    page.wait_for_load_state()
    for _ in range(50):  # the error page may still be replacing the document
        try:
            html = page.content()
            break
        except Exception:
            page.wait_for_timeout(100)
    assert not any(code in html for code in shown)


def test_removing_the_authenticator_asks_first(pages, live_server):
    new_page, _ = pages
    bob, device = member("bob", "developers")
    page = new_page(bob)
    page.goto(f"{live_server.url}/accounts/mfa/")
    page.click("#remove-authenticator")
    page.wait_for_url("**/accounts/mfa/remove/")
    assert "Remove your authenticator app?" in page.inner_text("h1")
    assert AuthenticatorDevice.objects.filter(pk=device.pk).exists()
    page.click("a:has-text('Cancel')")
    page.wait_for_url(f"{live_server.url}/accounts/mfa/")
    page.click("#remove-authenticator")
    page.fill("#id_code", code_at_step(device, 0))
    page.click("button:has-text('Yes, remove my authenticator app')")
    page.wait_for_url("**/accounts/mfa/enroll/")
    assert not AuthenticatorDevice.objects.filter(pk=device.pk).exists()


def test_the_security_team_unlocks_a_locked_account_on_members(pages, live_server, settings):
    new_page, _ = pages
    carol, device = member("carol", "security-team")
    lockme, _ = member("lockme", "developers", device=False)
    guesser = Client(REMOTE_ADDR="198.51.100.99")
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        guesser.post("/accounts/login/", {"login": "lockme", "password": f"wrong-{attempt}"})
    page = new_page(carol)
    page.goto(f"{live_server.url}/accounts/members/")
    row = page.locator("#locked-accounts tbody tr")
    assert row.count() == 1 and "198.51.100.99" in row.inner_text() and "lockme" in row.inner_text()
    page.select_option("#id_unlock-user", str(lockme.pk))
    page.fill("#id_unlock-otp_code", code_at_step(device, 0))
    page.click("#unlock-form button[type=submit]")
    page.wait_for_selector("text=lockme can log in again.")
    assert "Nobody is locked out" in page.inner_text("#locked-accounts")
    assert not AccessAttempt.objects.filter(username="lockme").exists()
    assert AuditEntry.objects.get(action="auth.lockout.cleared").actor_id == carol.pk


def test_the_403_page_is_in_the_layout_and_says_whom_to_ask(pages, live_server):
    new_page, _ = pages
    member("carol", "security-team")
    alice, _ = member("alice", "developers")
    page = new_page(alice)
    response = page.goto(f"{live_server.url}/accounts/members/")
    assert response.status == 403
    assert page.get_by_role("navigation", name="Main").get_by_role("link", name="Inventory").is_visible()
    assert "This page is for members of security-team" in page.inner_text("#needed-groups")
    assert "carol" in page.inner_text("#whom-to-ask")


def test_an_investigation_on_the_audit_log(pages, live_server):
    new_page, problems = pages
    carol, _ = member("carol", "security-team")
    alice, _ = member("alice", "developers", full_name="Alice Developer")
    Client(REMOTE_ADDR="198.51.100.50").post("/accounts/login/", {"login": "ALICE", "password": "guess"})
    page = new_page(carol)
    page.goto(f"{live_server.url}/audit/")
    page.get_by_label("Person (did it, or it was about them)").select_option(label="alice — Alice Developer")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/audit/?*person=alice*")
    sentence = page.locator("#audit-entries td.cf-sentence").first.inner_text()
    assert re.match(r"Someone from 198\.51\.100\.50 failed to log in as alice \(unverified", sentence)
    action_labels = page.locator("#id_action option").all_inner_texts()
    assert "Wrong username or password (the account named, if any, is unverified) (auth.login.failed)" in (
        action_labels
    )
    page.locator("#audit-entries td.cf-sentence a", has_text="alice").first.click()
    page.wait_for_url("**/audit/?person=alice")
    assert problems == []
