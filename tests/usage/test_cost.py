"""The cost estimate against a hand-computed fixture, with prices from settings."""

from datetime import timedelta
from decimal import Decimal

import pytest

from secrets_admin.usage.services import cost
from tests.usage.conftest import NOW

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def prices(settings):
    settings.COST_HOT_PER_SECRET_MONTH = Decimal("0.40")
    settings.COST_WARM_PER_SECRET_MONTH = Decimal("0.10")
    settings.COST_COLD_PER_GB_MONTH = Decimal("0.02")
    settings.COST_ARCHIVE_KB_PER_SECRET = Decimal("1048576")  # 1 GB each, so the cold share shows in cents
    settings.USAGE_STALE_DAYS = 90


def test_tiers_and_what_moving_stale_secrets_saves_match_the_hand_count(secret, reads):
    # hot: 3 AWS secrets, 2 stale (never accessed, accessed 100 days ago), 1 read 5 days ago
    secret("arn:1", backend="aws")
    secret("arn:2", backend="aws", last_accessed=NOW - timedelta(days=100))
    secret("arn:3", backend="aws", last_accessed=NOW - timedelta(days=5))
    # warm: 4 OpenBao secrets, none read (the rollup covers 100 days): 3 stale, 1 too young;
    # 1 missing (not priced)
    for name in ("a", "b", "c"):
        secret(f"secret/{name}")
    secret("secret/young", created_days=1)
    secret("secret/gone", status="missing")
    reads({(24 * 100, "sys/health", "probe"): 1})
    # sealed secrets are not priced
    secret("sealed:ns/app", backend="sealed")

    estimate = cost.estimate(now=NOW)
    tiers = {t.name: (t.secrets, t.stale, t.monthly) for t in estimate.tiers}
    assert tiers == {
        "hot": (3, 2, Decimal("1.20")),  # 3 × 0.40
        "warm": (4, 3, Decimal("0.40")),  # 4 × 0.10
        "cold": (0, 0, Decimal("0.00")),
    }
    assert estimate.total == Decimal("1.60")
    assert estimate.stale == 5
    assert estimate.stale_to_warm == Decimal("0.60")  # 2 × (0.40 − 0.10)
    # 2 × 0.40 + 3 × 0.10 − 5 × (1 GB × 0.02) = 0.80 + 0.30 − 0.10
    assert estimate.stale_to_cold == Decimal("1.00")


def test_prices_come_from_settings(secret, settings):
    secret("arn:1", backend="aws")
    settings.COST_HOT_PER_SECRET_MONTH = Decimal("1.25")
    assert cost.estimate(now=NOW).total == Decimal("1.25")


def test_the_cost_page_and_panel_show_the_estimate(secret, member):
    secret("arn:1", backend="aws")
    client = member("carol", "security-team")
    page = client.get("/usage/cost/").content.decode()
    assert "$0.40" in page and "Hot: AWS Secrets Manager" in page
    home = client.get("/").content.decode()
    assert 'id="panel-usage-cost"' in home and 'id="panel-usage-access"' in home
    assert 'id="panel-usage-cost"' not in member("alice", "developers").get("/").content.decode()
