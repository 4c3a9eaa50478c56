import pytest
from django.core.cache import cache

from secrets_admin.dashboard.services import snapshot


@pytest.fixture(autouse=True)
def _no_recompute_under_way():
    """Tests share one Redis: a lock or counter left by an earlier test must not make this one's
    events wait for a recompute that is not happening (services.snapshot coalesces through them)."""
    cache.delete_many([snapshot.LOCK_KEY, snapshot.WANTED_KEY])
