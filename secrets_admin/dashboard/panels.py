"""The overview's panels: each app adds its own part of the home page, for the groups that may
see it, so the dashboard grows without one view knowing every app.

An app registers its panels from its `ready()`. A panel renders itself to HTML from the
database (aggregates over indexed columns or rollup tables, never a loop over all rows); the
home page shows, in `order`, the panels whose groups the person is in. Managers see everything
here read-only: a panel never renders a form that changes state.
"""

import hashlib
import json
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

Render = Callable[[HttpRequest], SafeString | str]


@dataclass(frozen=True)
class Panel:
    name: str
    title: str
    groups: frozenset[str]
    order: int
    render: Render


PANELS: dict[str, Panel] = {}


def register(name: str, *, title: str, groups, order: int, render: Render) -> Panel:
    """Declare a panel. `groups`: who may see it (at least one group); `order`: its place on the
    page, lower first (tiles 0-99, charts 100-199, analytics 200-299, compliance and cost 300+);
    `render(request)` returns its HTML."""
    groups = frozenset(groups)
    if not groups:
        raise ValueError(f"panel {name!r} names no group: nobody could see it")
    existing = PANELS.get(name)
    if existing is not None and existing.render is not render:
        raise ValueError(f"panel {name!r} is already registered")
    PANELS[name] = panel = Panel(name, title, groups, order, render)
    return panel


def panels_for(user) -> list[Panel]:
    """The panels `user` may see, in page order. A person in no group sees none."""
    if not user.is_authenticated:
        return []
    names = set(user.groups.values_list("name", flat=True))
    return sorted((p for p in PANELS.values() if p.groups & names), key=lambda p: (p.order, p.name))


# Panels drawn from stored figures render the same HTML for everyone until the figures change,
# and rendering (the results' 90-row table, the usage panels' tables) cost more than the rest of
# the page together. So their HTML is kept per process, keyed by the template and a digest of the
# whole context, which is therefore always exactly what was rendered; the 32 last used are kept.
RENDERED: OrderedDict[tuple[str, str], str] = OrderedDict()
RENDERED_KEPT = 32


def render_once(template: str, context: dict) -> str:
    """render_to_string for a template whose output is a function of `context` alone (no
    request, nothing per person): rendered once per distinct context per process."""
    digest = hashlib.sha256(json.dumps(context, sort_keys=True, default=str).encode()).hexdigest()
    key = (template, digest)
    html = RENDERED.get(key)
    if html is None:
        html = RENDERED[key] = render_to_string(template, context)
        while len(RENDERED) > RENDERED_KEPT:
            RENDERED.popitem(last=False)
    else:
        RENDERED.move_to_end(key)
    return html
