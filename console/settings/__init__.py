"""Candlefish console settings: every value from the environment, one module per concern.

`.env.example` lists each variable. Readers in `console.env` record malformed values instead of
raising, and `console.checks` reports them (and unsafe production settings) with stable ids.
DJANGO_SETTINGS_MODULE stays `console.settings`: this package gathers the modules below.
"""

# The order is the order variables are read, so problems are reported in the file's order as
# before; each module imports what it needs from the ones above it.
# isort: off
from console.env import PROBLEMS  # noqa: F401 (settings.PROBLEMS, as before the split)
from console.settings.base import *  # noqa: F403
from console.settings.services import *  # noqa: F403
from console.settings.tasks import *  # noqa: F403
from console.settings.product import *  # noqa: F403
from console.settings.backends import *  # noqa: F403
from console.settings.accounts import *  # noqa: F403
from console.settings.mail import *  # noqa: F403
from console.settings.security import *  # noqa: F403
from console.settings.runtime import *  # noqa: F403
# isort: on
