"""Access patterns on the `make run` stack, as a manager: the demo's real reads through OpenBao
counted by the stack's own audit reader (beat), the seeded history's spike and candidates to
retire, the requests chart drawn under the strict CSP, and the cost page."""

import time

import pytest

from tests.browser.conftest import query
from tests.markers import requires_chromium

pytestmark = [pytest.mark.slow, pytest.mark.browser, requires_chromium]


def test_a_manager_sees_real_reads_the_spike_and_the_candidates_to_retire(stack, frank):
    deadline = time.monotonic() + 60
    real = []
    while time.monotonic() < deadline and not real:  # beat runs the reader every 5 s
        real = query(
            stack,
            "SELECT SUM(count) FROM usage_hourlyaccess WHERE demo = 0 AND identity = 'token-payments-api' "
            "AND operation = 'read' HAVING SUM(count) > 0",
        )
        time.sleep(0.5)
    assert real and real[0][0] == 9, real  # three secrets, three reads each, counted once

    page = frank.page()
    page.goto(f"{stack.url}/usage/?identity=token-payments-api")
    main = page.inner_text("main")
    assert "9 requests (read)" in main and "unknown-laptop" not in main
    page.goto(f"{stack.url}/usage/")
    page.wait_for_selector("canvas[data-chart][data-drawn]")
    main = page.inner_text("main")
    assert "Unusual spikes" in main and "120" in main  # the demo's burst
    assert "Candidates to retire: not read in 90 days (4)" in main
    page.goto(f"{stack.url}/usage/cost/")
    assert "Hot: AWS Secrets Manager" in page.inner_text("main")
    page.goto(f"{stack.url}/usage/?from=nonsense")
    assert "must be a date written YYYY-MM-DD" in page.inner_text("main")
    frank.watch.problems = [p for p in frank.watch.problems if "400" not in p]  # the bad filter's status
    frank.watch.assert_clean(page)
