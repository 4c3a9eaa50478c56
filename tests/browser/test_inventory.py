"""The seeded demo estate as a security engineer sees it after `make run`: every backend synced,
problems named on the secret they belong to, certificates in their own terms."""

import pytest

from tests.browser.conftest import query
from tests.markers import requires_chromium

pytestmark = [pytest.mark.slow, pytest.mark.browser, requires_chromium]


def test_the_seeded_estate_reads_in_a_persons_words(stack, carol):
    seeded = query(stack, "SELECT backend, state, created FROM inventory_syncrun ORDER BY id")
    assert {row[0] for row in seeded} == {"vault", "aws", "gitops"} and sum(row[2] for row in seeded) >= 40
    page = carol.page()

    page.goto(f"{stack.url}/inventory/?q=billing-ftp")
    assert "Needs attention" in page.inner_text("main")
    page.click("a:has-text('secret/legacy/billing-ftp-password')")
    assert "is not one of development|staging|production" in page.inner_text("main")

    page.goto(f"{stack.url}/inventory/?kind=certificate")
    rows = page.locator("table#secrets tbody tr")
    assert rows.count() >= 5
    names = rows.locator("th[scope=row]").all_inner_texts()
    assert not [n for n in names if n.startswith("pki/cert/")], names  # common names, not serials
    assert any("expires in" in text for text in rows.locator("td[data-label=Status]").all_inner_texts())

    page.goto(f"{stack.url}/inventory/?backend=aws")
    names = page.locator("table#secrets tbody th[scope=row]").all_inner_texts()
    assert names and not [n for n in names if n.startswith("arn:")], names  # AWS names, not ARNs
    carol.watch.assert_clean(page)
    page.close()
