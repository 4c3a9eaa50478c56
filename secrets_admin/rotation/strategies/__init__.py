"""Rotation strategies: one dict of name -> dotted path, imported lazily (each strategy module may
need a backend SDK or a target driver; importing them all at start-up would load everything).

The model's `strategy` choices derive from this dict. Strategies owned by other areas are listed
here before their modules exist: `get_strategy` then says so in words.
"""

from django.utils.module_loading import import_string

from secrets_admin.rotation.strategies.base import StepContext, StepFailed, Strategy

STRATEGIES = {
    "blue-green": "secrets_admin.rotation.strategies.blue_green.BlueGreen",
    "rolling": "secrets_admin.rotation.strategies.rolling.Rolling",
    "dynamic": "secrets_admin.rotation.strategies.dynamic.Dynamic",
    "graceful": "secrets_admin.rotation.strategies.graceful.Graceful",
    "reseal": "secrets_admin.rotation.strategies.reseal.Reseal",
}

_loaded: dict[str, Strategy] = {}


class UnknownStrategy(LookupError):
    """No strategy of that name, or its module is not installed in this build."""


def get_strategy(name: str) -> Strategy:
    """The strategy instance registered as `name` (cached). Raises UnknownStrategy."""
    if name not in _loaded:
        try:
            path = STRATEGIES[name]
        except KeyError:
            raise UnknownStrategy(f"no rotation strategy named {name!r}") from None
        try:
            _loaded[name] = import_string(path)()
        except ImportError:
            raise UnknownStrategy(f"the {name} strategy is not available in this build ({path})") from None
    return _loaded[name]


__all__ = ["STRATEGIES", "StepContext", "StepFailed", "Strategy", "UnknownStrategy", "get_strategy"]
