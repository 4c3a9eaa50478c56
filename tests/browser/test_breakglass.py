"""Break-glass in three browsers on the `make run` stack: alice (developers) asks from a secret's
page, carol (security-team) and erin (cto) approve with codes, alice reveals the token and uses it
against the stack's OpenBao, the session shows up on the grant's timeline, carol revokes. The
server's state (the SQLite database, OpenBao) is asserted after each step."""

import re
import time

import hvac
import hvac.exceptions
import pyotp
import pytest

from tests.browser.conftest import _person, demo_key, query
from tests.markers import requires_chromium

pytestmark = [pytest.mark.slow, pytest.mark.browser, requires_chromium]
_used: dict[str, int] = {}
APPROVALS = 'SELECT "group", approver_name FROM breakglass_approval WHERE request_id=? AND voided_at IS NULL'


def fresh_code(stack, username) -> str:
    """A code at a time step this person has not used yet (each code works once), waiting for
    the next step when the ones inside the tolerance are spent."""
    now = int(time.time() // 30)
    step = max(_used.get(username, now) + 1, now - 1)
    while step > int(time.time() // 30) + 1:
        time.sleep(1)
    _used[username] = step
    return pyotp.TOTP(demo_key(stack, username)).at(step * 30)


def person(chromium, stack, username):
    found = _person(chromium, stack, username)
    _used[username] = int(time.time() // 30)  # the login spent a code of this step
    return found


def wait_for(check, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError("timed out")


def test_request_two_approvals_reveal_use_and_revoke(chromium, stack):
    alice, carol, erin = (person(chromium, stack, name) for name in ("alice", "carol", "erin"))
    secret_id, path = query(
        stack,
        "SELECT id, path FROM inventory_secret WHERE backend='vault' AND kind='password' "
        "AND path LIKE 'secret/%' AND status != 'missing' ORDER BY path LIMIT 1",
    )[0]

    # alice asks, from the secret's page
    page = alice.page()
    page.goto(f"{stack.url}/inventory/{secret_id}/")
    page.click("a:has-text('Request access')")
    assert page.input_value("textarea[name=scope]").strip() == path
    page.check("input[name=kind][value=break_glass]")
    page.fill("textarea[name=reason]", "Payments are failing and I need to check the database password now.")
    page.fill("input[name=duration]", "1h")
    page.click("button:has-text('Send the request')")
    page.wait_for_url(re.compile(r"/access/\d+/$"))
    request_id = int(page.url.rstrip("/").split("/")[-1])
    assert query(
        stack, "SELECT status, kind, duration_seconds FROM breakglass_accessrequest WHERE id=?", request_id
    ) == [("pending", "break_glass", 3600)]
    alice.watch.assert_clean(page)

    # carol sees it in the queue and approves with a code
    approve_page = carol.page()
    approve_page.goto(f"{stack.url}/access/approvals/")
    approve_page.click(f"a[href='/access/{request_id}/']")
    main = approve_page.inner_text("main")
    assert path in main and "alice" in main and "production" in main.lower()
    approve_page.fill("input[name=otp_code]", fresh_code(stack, "carol"))
    approve_page.click("button:has-text('Approve')")
    approve_page.wait_for_selector("text=Approved.")
    assert query(stack, APPROVALS, request_id) == [("security-team", "carol")]
    assert query(stack, "SELECT status FROM breakglass_accessrequest WHERE id=?", request_id) == [
        ("pending",)
    ]
    carol.watch.assert_clean(approve_page)

    # erin approves the cto slot: the grant is issued
    cto_page = erin.page()
    cto_page.goto(f"{stack.url}/access/{request_id}/")
    cto_page.fill("input[name=otp_code]", fresh_code(stack, "erin"))
    cto_page.click("button:has-text('Approve')")
    cto_page.wait_for_selector("text=Approved.")
    grant_id, accessor, state = query(
        stack, "SELECT id, accessor, state FROM breakglass_grant WHERE request_id=?", request_id
    )[0]
    assert state == "active" and accessor
    assert query(stack, "SELECT status FROM breakglass_accessrequest WHERE id=?", request_id) == [("active",)]
    erin.watch.assert_clean(cto_page)

    # alice reveals once and uses the token against OpenBao
    page.goto(f"{stack.url}/access/grants/{grant_id}/")
    page.fill("input[name=otp_code]", fresh_code(stack, "alice"))
    page.click("button:has-text('Reveal')")
    lines = page.inner_text("[data-token-lines]")
    addr = re.search(r"VAULT_ADDR=(\S+)", lines).group(1)
    token = re.search(r"VAULT_TOKEN=(\S+)", lines).group(1)
    assert query(
        stack, "SELECT sealed_token = '' , revealed_at IS NOT NULL FROM breakglass_grant WHERE id=?", grant_id
    ) == [(1, 1)]
    client = hvac.Client(url=addr, token=token)
    mount, _, key = path.partition("/")
    assert client.secrets.kv.v2.read_secret_version(
        path=key, mount_point=mount, raise_on_deleted_version=True
    )
    page.goto(f"{stack.url}/access/grants/{grant_id}/")
    assert token not in page.content() and page.locator("button:has-text('Reveal')").count() == 0
    alice.watch.assert_clean(page)

    # the session is recorded (beat tails OpenBao's audit file) and carol sees it
    wait_for(lambda: query(stack, "SELECT path FROM breakglass_sessionevent WHERE grant_id=?", grant_id))
    watch_page = carol.page()
    watch_page.goto(f"{stack.url}/access/grants/{grant_id}/")
    assert f"{mount}/data/{key}" in watch_page.inner_text("#timeline")

    # carol revokes with a code; OpenBao no longer knows the token
    watch_page.fill("input[name=otp_code]", fresh_code(stack, "carol"))
    watch_page.click("button:has-text('Revoke the token')")
    watch_page.wait_for_selector("text=OpenBao confirmed its token is gone")
    assert query(stack, "SELECT state FROM breakglass_grant WHERE id=?", grant_id) == [("revoked",)]
    assert query(stack, "SELECT status FROM breakglass_accessrequest WHERE id=?", request_id) == [
        ("revoked",)
    ]
    with pytest.raises(hvac.exceptions.Forbidden):
        client.auth.token.lookup_self()
    assert query(stack, "SELECT count(*) FROM breakglass_incidentreview WHERE grant_id=?", grant_id) == [(1,)]
    carol.watch.assert_clean(watch_page)
    for who in (alice, carol, erin):
        who.context.close()
