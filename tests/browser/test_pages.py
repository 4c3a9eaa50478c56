"""Every page a signed-in person can reach, in a real browser: no uncaught error, no console
error, no CSP violation, and nothing scrolls sideways on a 390 px phone (the inventory becomes
one card per secret). Also takes the README's screenshots (docs/screenshots/, rewritten when
UPDATE_SCREENSHOTS=1; otherwise written to a temporary folder, so the code path always runs)."""

import os
import re
from collections import Counter, deque
from pathlib import Path
from urllib.parse import urldefrag, urlparse

import pytest

from tests.browser.conftest import Watch, new_context
from tests.markers import requires_chromium

pytestmark = [pytest.mark.slow, pytest.mark.browser, requires_chromium]

ROOT = Path(__file__).resolve().parents[2]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1200, "height": 760}
SKIP = re.compile(r"^/(static|admin)/|\.(csv|json)$|^/readyz$|^/healthz$|/logout/")
PER_SHAPE = 2  # pages per URL shape (/inventory/{n}/, …): enough to meet every template

# Elements that scroll sideways, and whether the document itself does (the page must not).
SIDEWAYS = """() => {
  const root = document.documentElement;
  const found = root.scrollWidth > root.clientWidth + 1 ? ["the page (" + root.scrollWidth + " px)"] : [];
  if (found.length) {  // name the innermost elements that stick out, to say what to fix
    const out = [...document.querySelectorAll("body *")].filter(
      (el) => el.getBoundingClientRect().right > root.clientWidth + 1);
    const innermost = out.filter((el) => !out.some((other) => other !== el && el.contains(other)));
    for (const el of innermost.slice(0, 3)) {
      const text = el.textContent.trim().slice(0, 40);
      found.push("sticks out: " + el.tagName.toLowerCase() + "." + el.className + " " + text);
    }
  }
  for (const el of document.querySelectorAll("body *")) {
    const style = getComputedStyle(el);
    if (["auto", "scroll"].includes(style.overflowX) && el.scrollWidth > el.clientWidth + 1) {
      found.push(el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + "." + el.className);
    }
  }
  return found;
}"""


def shape(path: str) -> str:
    return re.sub(r"/\d+/", "/{n}/", path)


def links(page, origin) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(a => a.href)")
    found = []
    for href in hrefs:
        url, _ = urldefrag(href)
        parsed = urlparse(url)
        if f"{parsed.scheme}://{parsed.netloc}" == origin and not SKIP.search(parsed.path):
            found.append(url)
    return found


def walk(person, stack, start="/", limit=60) -> list[str]:
    """Breadth-first over the links a person sees; each page checked at desktop and phone width."""
    page = person.page()
    seen, shapes, visited = set(), Counter(), []
    todo = deque([stack.url + start])
    while todo and len(visited) < limit:
        url = todo.popleft()
        path = urlparse(url).path
        if url in seen or shapes[shape(path)] >= PER_SHAPE:
            continue
        seen.add(url)
        shapes[shape(path)] += 1
        page.set_viewport_size(DESKTOP)
        response = page.goto(url)
        assert response.status == 200, f"{url} answered {response.status}"
        page.wait_for_load_state("networkidle")
        person.watch.assert_clean(page)
        page.set_viewport_size(PHONE)
        sideways = page.evaluate(SIDEWAYS)
        assert sideways == [], f"{url} scrolls sideways at 390 px: {sideways}"
        visited.append(path)
        todo.extend(links(page, stack.url))
    page.close()
    return visited


def test_every_page_carol_reaches_is_clean_and_fits_a_phone(stack, carol):
    visited = walk(carol, stack)
    # The walk reached every part of the console a security engineer uses.
    for expected in ("/", "/inventory/", "/inventory/{n}/", "/inventory/{n}/edit/", "/inventory/register/",
                     "/inventory/runs/", "/inventory/runs/{n}/", "/audit/", "/audit/{n}/",
                     "/accounts/members/", "/accounts/mfa/"):  # fmt: skip
        assert expected in {shape(p) for p in visited}, (expected, visited)


def test_every_page_a_manager_reaches_is_clean(stack, frank):
    visited = walk(frank, stack)
    assert {"/inventory/", "/inventory/runs/", "/audit/"} <= {shape(p) for p in visited}
    assert "/accounts/members/" not in visited


def test_the_inventory_is_one_card_per_secret_on_a_phone(stack, carol):
    page = carol.page()
    page.set_viewport_size(PHONE)
    page.goto(f"{stack.url}/inventory/")
    rows = page.locator("table#secrets > tbody > tr")
    assert rows.count() >= 10
    first = rows.first.bounding_box()
    assert first["width"] <= PHONE["width"] and first["width"] > PHONE["width"] * 0.8  # a full-width card
    assert page.locator("table#secrets thead").is_hidden()
    labels = rows.first.locator("td").evaluate_all(
        "cells => cells.map(c => getComputedStyle(c, '::before').content)"
    )  # each line of the card says what it is
    assert labels == [
        '"Backend"',
        '"Kind"',
        '"Environment"',
        '"Owner"',
        '"Status"',
        '"Next due"',
        '"Last rotated"',
    ]
    carol.watch.assert_clean(page)
    page.close()


@pytest.mark.parametrize("width", [992, 1200, 1440])
def test_the_main_menu_keeps_log_out_on_screen_at_desktop_widths(stack, carol, width):
    """The security team's menu has the most entries; it wraps to a second row instead of pushing
    the name and "Log out" past the window's edge, and no entry breaks inside its label."""
    page = carol.page()
    page.set_viewport_size({"width": width, "height": 760})
    page.goto(f"{stack.url}/access/")
    logout = page.get_by_role("button", name="Log out").bounding_box()
    assert logout["x"] >= 0 and logout["x"] + logout["width"] <= width, (width, logout)
    heights = page.locator("#nav .nav-link").evaluate_all("links => links.map(a => a.offsetHeight)")
    assert len(heights) >= 10 and max(heights) == min(heights), heights  # one line each
    carol.watch.assert_clean(page)
    page.close()


def screenshot_folder(tmp_path) -> Path:
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        return ROOT / "docs" / "screenshots"
    return tmp_path


def test_screenshots_of_the_login_the_inventory_a_secret_and_the_audit_log(stack, chromium, carol, tmp_path):
    folder = screenshot_folder(tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    visitor = new_context(chromium, stack)
    watch = Watch()
    page = watch.attach(visitor.new_page())
    page.goto(f"{stack.url}/accounts/login/")
    page.screenshot(path=folder / "login.png")
    watch.assert_clean(page)
    visitor.close()

    page = carol.page()
    page.goto(f"{stack.url}/inventory/")
    page.wait_for_selector("text=Live updates: on.")
    page.screenshot(path=folder / "inventory.png")
    page.goto(f"{stack.url}/inventory/?kind=certificate&sort=next_due")
    page.click("table#secrets tbody tr:first-child a")
    page.wait_for_selector("#secret-path")
    page.screenshot(path=folder / "secret.png")
    page.goto(f"{stack.url}/audit/")
    page.screenshot(path=folder / "audit.png")
    carol.watch.assert_clean(page)
    page.close()
    for name in ("login", "inventory", "secret", "audit"):
        png = folder / f"{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size < 400_000, png


def test_the_csp_lets_a_page_open_sockets_to_the_console_only(stack, carol):
    page = carol.page()
    page.goto(f"{stack.url}/inventory/runs/")
    page.wait_for_selector("text=Live updates: on.")  # its own socket: allowed
    elsewhere = (
        stack.url.replace("http://127.0.0.1", "ws://localhost") + "/ws/live/"
    )  # same server, other origin
    page.evaluate("url => { try { new WebSocket(url); } catch (e) { /* blocked */ } }", elsewhere)
    page.wait_for_timeout(500)
    violations = page.evaluate("window.__cspViolations")
    assert violations and all(v.startswith("connect-src blocked ws://localhost") for v in violations), (
        violations
    )
    carol.watch.problems.clear()  # the violation (and its console error) is what this test provokes
    page.close()
