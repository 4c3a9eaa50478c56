"""The rotation schedule in a real browser, on the `make run` stack: a security engineer links two
secrets with a one-time code (the row checked in the database), and the 30-day calendar works
from the keyboard (a day in the summary leads to its list)."""

import pytest

from tests.browser.conftest import fresh_code, query
from tests.markers import requires_chromium

pytestmark = [pytest.mark.slow, pytest.mark.browser, requires_chromium]


def test_carol_links_two_secrets_with_a_code(stack, carol):
    # two API keys the demo has not linked already (seed_demo links a few secrets of its own)
    (first_id, first_path), (second_id, _) = query(
        stack,
        "SELECT id, backend || ':' || path FROM inventory_secret WHERE kind = 'api_key' AND id NOT IN"
        " (SELECT first_id FROM schedule_secretlink UNION SELECT second_id FROM schedule_secretlink)"
        " ORDER BY id LIMIT 2",
    )
    before = query(stack, "SELECT count(*) FROM schedule_secretlink")[0][0]
    page = carol.page()
    page.goto(f"{stack.url}/schedule/links/new/")
    page.get_by_label("Secret", exact=True).fill(first_path)
    page.get_by_label("Must not rotate together with").fill(str(second_id))
    page.get_by_label("Why").fill("key and consumer")
    code = fresh_code(stack, "carol")  # a step the login did not spend
    page.get_by_label("Code from your authenticator app").fill(code)
    page.get_by_role("button", name="Link").click()
    page.wait_for_url(f"{stack.url}/schedule/links/")
    assert "key and consumer" in page.inner_text("main")
    rows = query(
        stack,
        "SELECT first_id, second_id, reason, created_by FROM schedule_secretlink WHERE created_by = 'carol'",
    )
    assert rows == [(min(first_id, second_id), max(first_id, second_id), "key and consumer", "carol")]
    assert query(stack, "SELECT count(*) FROM schedule_secretlink")[0][0] == before + 1
    carol.watch.assert_clean(page)
    page.close()


def test_the_calendar_works_from_the_keyboard(stack, frank):
    page = frank.page()
    page.goto(f"{stack.url}/schedule/calendar/")
    day_links = page.locator("a[href^='#day-']")
    assert day_links.count() >= 1, "the demo estate has rotations planned in the next 30 days"
    target = day_links.first.get_attribute("href")
    for _ in range(60):  # Tab through the page as a keyboard user would
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.getAttribute('href')") == target:
            break
    else:
        pytest.fail(f"Tab never reached the link to {target}")
    page.keyboard.press("Enter")
    page.wait_for_function("t => location.hash === t", arg=target)
    heading = page.locator(target)
    assert heading.is_visible() and heading.evaluate("el => el.tagName") == "H3"
    table = page.locator(f"section[aria-labelledby='{target[1:]}'] table")
    assert table.locator("caption").inner_text().startswith("Rotations planned on")
    assert table.locator("tbody tr").count() >= 1
    frank.watch.assert_clean(page)
    page.close()
