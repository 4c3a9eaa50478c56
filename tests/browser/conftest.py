"""The console in a real browser, on the whole `make run` stack.

One stack for the package (real OpenBao, moto, an embedded Valkey of its own, Daphne, a Celery
worker and beat; `seed_demo` syncs the demo estate into its SQLite database), and Debian's
chromium through Playwright. Each demo person logs in once, through the login page and a TOTP
code from their demo key, and keeps their browser context. Every page a test opens is watched:
an uncaught error, a console error or a CSP violation fails the test (`Watch.assert_clean`).
"""

import re
import sqlite3
import time
from dataclasses import dataclass, field

import pyotp
import pytest

from console.stack.servers import free_port
from tests.console.test_stack import Stack
from tests.markers import launch_chromium, requires_chromium

pytestmark = [requires_chromium]

# Runs before any page script: CSP violations are events, not always console messages.
LISTEN_FOR_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline"));
});
"""


@dataclass
class Watch:
    """What went wrong on the pages of one browser context."""

    problems: list[str] = field(default_factory=list)

    def attach(self, page):
        page.on("pageerror", lambda exc: self.problems.append(f"pageerror on {page.url}: {exc}"))
        page.on(
            "console",
            lambda m: (
                self.problems.append(f"console {m.type} on {page.url}: {m.text}")
                if m.type == "error" or "Content Security Policy" in m.text
                else None
            ),
        )
        return page

    def collect_csp(self, page):
        for violation in page.evaluate("window.__cspViolations || []"):
            self.problems.append(f"CSP violation on {page.url}: {violation}")

    def assert_clean(self, page=None):
        if page is not None:
            self.collect_csp(page)
        problems, self.problems = self.problems, []
        assert problems == [], "\n".join(problems)


@pytest.fixture(scope="package")
def stack(tmp_path_factory):
    data = tmp_path_factory.mktemp("browser-stack") / "data"
    # REDIS_URL="": an embedded Valkey of its own, so nothing it queues reaches the session's Redis.
    running = Stack(data, free_port(), REDIS_URL="")
    try:
        running.start()
        yield running
    finally:
        running.kill()


def demo_key(stack, username) -> str:
    text = (stack.data_dir / "demo-logins.txt").read_text()
    return re.search(rf"^\s+{username}\s+([A-Z2-7]{{32}})\s", text, re.M).group(1)


def query(stack, sql, *args):
    with sqlite3.connect(stack.data_dir / "console.sqlite3") as db:
        return db.execute(sql, args).fetchall()


def web_log(stack) -> list[str]:
    """The Daphne process's lines in the stack's log so far."""
    return [line for line in stack.log.read_text(errors="replace").splitlines() if line.startswith("web ")]


@pytest.fixture(scope="package")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        yield browser
        browser.close()


def new_context(chromium, stack, **options):
    context = chromium.new_context(viewport={"width": 1200, "height": 760}, **options)
    context.add_init_script(LISTEN_FOR_CSP)
    context.set_default_timeout(20000)
    return context


_used_steps: dict[str, int] = {}  # person -> the last TOTP step spent here (a code works once)


def fresh_code(stack, username) -> str:
    """A code of a time step this person has not spent yet: the stack refuses a replayed code,
    and several tests log the same demo person in within one 30 s step. Waits for the next step
    when the ones the server accepts (one either side of now) are spent."""
    now = int(time.time() // 30)
    step = max(_used_steps.get(username, now - 1) + 1, now)
    while step > int(time.time() // 30) + 1:
        time.sleep(1)
    _used_steps[username] = step
    return pyotp.TOTP(demo_key(stack, username)).at(step * 30)


def log_in(page, stack, username):
    """The login page, then the one-time code page, as a person would."""
    page.goto(f"{stack.url}/accounts/login/")
    page.fill("#id_login", username)
    page.fill("#id_password", "candlefish-demo")
    page.press("#id_password", "Enter")
    page.wait_for_selector("input[autocomplete=one-time-code]")
    page.fill("input[autocomplete=one-time-code]", fresh_code(stack, username))
    page.press("input[autocomplete=one-time-code]", "Enter")
    page.wait_for_url(f"{stack.url}/")


@dataclass
class Person:
    username: str
    context: object
    watch: Watch

    def page(self):
        return self.watch.attach(self.context.new_page())


def _person(chromium, stack, username) -> Person:
    context = new_context(chromium, stack)
    watch = Watch()
    page = watch.attach(context.new_page())
    log_in(page, stack, username)
    watch.assert_clean(page)
    page.close()
    return Person(username, context, watch)


@pytest.fixture(scope="package")
def carol(chromium, stack):
    """Security team: reaches every page of the console."""
    person = _person(chromium, stack, "carol")
    yield person
    person.context.close()


@pytest.fixture(scope="package")
def frank(chromium, stack):
    """Managers: reads the inventory, the sync runs and the audit log."""
    person = _person(chromium, stack, "frank")
    yield person
    person.context.close()
