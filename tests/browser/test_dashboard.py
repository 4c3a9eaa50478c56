"""The dashboard in a real browser, as a manager on the `make run` stack (seed_demo's estate and
demo history): the tiles, every chart drawn on its canvas from the table beside it, live
updates on, no console error and no CSP violation. Saves docs/screenshots/dashboard.png with
UPDATE_SCREENSHOTS=1 (otherwise to a temporary folder, so the code path always runs)."""

import pytest

from tests.browser.test_pages import DESKTOP, screenshot_folder
from tests.markers import requires_chromium

pytestmark = [pytest.mark.slow, pytest.mark.browser, requires_chromium]


def test_a_manager_sees_the_tiles_and_every_chart_drawn(stack, frank, tmp_path):
    page = frank.page()
    page.set_viewport_size(DESKTOP)
    page.goto(f"{stack.url}/")
    page.wait_for_selector("#dashboard-tiles [data-tile-number]")
    page.wait_for_selector("text=Live updates: on.")
    page.wait_for_function(
        "() => { const c = document.querySelectorAll('canvas[data-chart]');"
        " return c.length > 0 && [...c].every(e => e.dataset.drawn === '1'); }"
    )
    canvases = page.eval_on_selector_all(
        "canvas[data-chart]", "els => els.map(e => [e.dataset.table, e.width > 0 && e.height > 0])"
    )
    tables = {table for table, _ in canvases}
    assert "trend-table" in tables, "the demo history draws the 90-day trend"
    assert any(t.startswith("age-table-") for t in tables)
    assert all(drawn for _, drawn in canvases), canvases
    assert page.locator("#current-failures a[href^='/rotation/runs/']").count() > 0
    assert page.locator("#dashboard-tiles form").count() == 0  # read-only for managers

    folder = screenshot_folder(tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=folder / "dashboard.png", full_page=True)
    frank.watch.assert_clean(page)
    page.close()
    png = folder / "dashboard.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
