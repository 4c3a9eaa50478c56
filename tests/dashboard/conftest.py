import pytest

from secrets_admin.dashboard import tiles


@pytest.fixture(autouse=True)
def _tiles_computed_fresh(monkeypatch):
    """Tests share one Redis and the topic's sequence number: each computes its own tiles
    (tests/dashboard/test_live.py::test_sockets_share_one_computation turns the cache on)."""
    monkeypatch.setattr(tiles, "CACHE_SECONDS", 0)
