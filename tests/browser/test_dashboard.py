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


def test_a_sync_redraws_the_charts_live_from_the_new_tables(stack, frank, carol):
    """The dashboard.tiles socket re-sends the age and results panels (their tables carry the
    numbers); charts.js draws the new canvases and lets the replaced charts go; a <details> the
    reader opened stays open across the swap."""
    page = frank.page()
    page.set_viewport_size(DESKTOP)
    page.goto(f"{stack.url}/")
    page.wait_for_selector("text=Live updates: on.")
    page.wait_for_function(
        "() => [...document.querySelectorAll('canvas[data-chart]')].every(e => e.dataset.drawn === '1')"
    )
    live = "#dashboard-age canvas[data-chart], #dashboard-trend canvas[data-chart]"
    page.eval_on_selector_all(live, "els => els.forEach(e => { e.dataset.before = '1'; })")
    assert page.locator(live).count() > 1
    page.click("#trend-numbers summary")  # the reader opens the numbers beside the trend
    page.eval_on_selector("#trend-numbers[open]", "e => { e.dataset.before = '1'; }")

    pressing = carol.page()
    pressing.goto(f"{stack.url}/inventory/runs/")
    pressing.click("button:has-text('Sync aws now')")  # a sync finishing moves the tiles and age
    page.wait_for_function(
        "(sel) => { const c = [...document.querySelectorAll(sel)];"
        " return c.length > 1 && c.every(e => !e.dataset.before && e.dataset.drawn === '1'); }",
        arg=live,
        timeout=30_000,
    )
    charts = page.evaluate(
        "() => [Object.keys(Chart.instances).length, document.querySelectorAll('canvas[data-chart]').length]"
    )
    assert charts[0] == charts[1], f"charts left behind by the swap: {charts}"
    assert page.locator("#trend-table tbody tr").count() == 90  # the numbers beside the chart
    # The swap replaced the <details> too, and it came back open (live.js keeps it so).
    assert page.eval_on_selector("#trend-numbers", "e => [e.open, e.dataset.before || null]") == [True, None]
    assert page.locator("#trend-table").is_visible()
    frank.watch.assert_clean(page)
    carol.watch.assert_clean(pressing)
    page.close()
    pressing.close()
