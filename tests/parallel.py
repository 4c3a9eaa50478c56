"""Running the suite on several pytest-xdist workers (`make test` uses `-n 2 --dist loadgroup`).

Each worker is a pytest session of its own: its own OpenBao, moto and embedded PostgreSQL target
(the session fixtures, on free ports, in the worker's own temp folder), its own test database
(pytest-django appends `_gw0`, `_gw1`...), and its own Redis database number (REDIS_URL's number
plus the worker's index), so nothing one worker writes is seen by the other.

Tests are handed out a whole file at a time (one `xdist_group` per file), so the tests of a file
run in their order on one worker, as without xdist, and share their module fixtures; the browser
package is one group, as it shares one `make run` stack. Groups known to take longest go first,
so a long one does not start last and leave the other worker idle.
"""

import os
from urllib.parse import urlsplit, urlunsplit

import pytest

# Longest first (from `--durations`); the rest keep their collection order after these.
LONG_GROUPS = ("tests/browser", "tests/accounts/test_permission_matrix.py")
# Files of independent cases (each builds its own rows in its own transaction), handed out in
# this many parts so both workers share them.
SPLIT = {"tests/accounts/test_permission_matrix.py": 4}


def worker_index() -> int:
    """0 without xdist, else the worker's number (gw0 -> 0, gw1 -> 1)."""
    return int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))


def worker_redis_url(url: str) -> str:
    """REDIS_URL with the worker's own database number (base + index)."""
    if not url or not url.startswith(("redis://", "rediss://")) or worker_index() == 0:
        return url
    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{base + worker_index()}"))


def group_of(item) -> str:
    path = item.nodeid.split("::", 1)[0]
    for long_group in LONG_GROUPS:
        if path.startswith(long_group + "/"):
            return long_group
    return path


def group_by_file(items: list) -> None:
    """One xdist_group per file (the browser package as one, SPLIT files in parts), the long
    groups first. Only on xdist workers: a run without `-n` keeps its plain order."""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        return
    seen: dict[str, int] = {}
    for item in items:
        group = group_of(item)
        if group in SPLIT:
            seen[group] = seen.get(group, -1) + 1
            group = f"{group}#{seen[group] % SPLIT[group]}"
        item.add_marker(pytest.mark.xdist_group(group))
    first = {name: rank for rank, name in enumerate(LONG_GROUPS)}
    items.sort(key=lambda item: first.get(group_of(item), len(first)))  # stable: order kept
