"""Every URL × every kind of visitor → what the server must answer (first response, no redirects
followed). `tests/accounts/test_permission_matrix.py` walks it, and fails on any URL pattern of the
URLconf that no entry here reaches and that `UNLISTED` does not excuse.

The rows live in tests/matrix/, one module per area (accounts, audit, inventory, rotation, ...),
each with its `URLS` list and, for its live topics, a `LIVE_TOPICS` dict; this module gathers every
module there, so a new URL gets its row in its area's module, a new area a new module.
tests/matrix/roles.py holds the words they share (`every`, `LOGGED_IN`, `SECURITY_TEAM_ONLY`...).

Entry: (url_or_callable, {role: expected}) or (url_or_callable, {role: expected}, "post").
A callable is called inside the test (database available) and returns the URL, so entries can
create the object they need. `expected` for a role is either
  - an HTTP status (int): 200, 400, 403, 405 ...; or
  - a path (str): a 302 redirect there (`LOGIN`, `CODE`, `ENROLL` or any page, e.g. "/").
    A path with "?" must match the redirect's path and query exactly; without, the path only.
    A path starting with "." is relative to the URL asked for ("../" from /things/3/test/ is
    /things/3/), for entries whose URL comes from a callable.
A bare 302 is allowed only where the target is implied: anonymous → LOGIN, no_device → ENROLL,
unverified → CODE. Every other redirect names where it goes.

Roles (run with MFA_REQUIRED=True, as in staging/production):
  anonymous      – not logged in                      (login-required pages: 302 to LOGIN)
  no_device      – logged in, in `developers`, but no confirmed second factor (302 to ENROLL)
  developers, security-team, cto, managers – logged in, in that group, session OTP-verified
  unverified     – optional: logged in, in `developers`, with an authenticator, session not yet
                   verified (302 to CODE). Omitted, it is derived from no_device: ENROLL becomes
                   CODE, anything else stays the same.

LIVE_TOPICS: websocket topics on /ws/live/ -> {role: None when the socket is served, else the close
code it gets}. A user in no group always gets 4403 (tests/console/test_live.py).
"""

import importlib
import pkgutil

import tests.matrix
from tests.matrix.roles import (  # noqa: F401 (the matrix's vocabulary, for tests and new rows)
    ALL,
    CODE,
    ENROLL,
    IMPLIED_REDIRECTS,
    LOGGED_IN,
    LOGIN,
    OPTIONAL,
    SECURITY_TEAM_ONLY,
    SECURITY_TEAM_POSTS,
    every,
)

# Every module of tests/matrix/ but the vocabulary, by name: none can be left out by mistake.
AREAS = [
    importlib.import_module(f"tests.matrix.{module.name}")
    for module in sorted(pkgutil.iter_modules(tests.matrix.__path__), key=lambda module: module.name)
    if module.name != "roles"
]

URLS = [row for area in AREAS for row in area.URLS]
LIVE_TOPICS = {topic: roles for area in AREAS for topic, roles in getattr(area, "LIVE_TOPICS", {}).items()}

# URL patterns (as the URLconf spells them) that no entry needs to reach, each with its reason.
UNLISTED = {}
