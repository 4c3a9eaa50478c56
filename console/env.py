"""Typed readers for environment variables.

A malformed value never crashes settings import: the reader records a `ConfigProblem`
(variable and expected form) and returns the default, and `console.checks` turns every problem
into a system-check error with a stable id. That way `manage.py check` lists all mistakes at once.
"""

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ConfigProblem:
    variable: str
    expected: str  # the value itself is never kept: it may be a password or a URL with one


PROBLEMS: list[ConfigProblem] = []
_MISSING = object()


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    return None if value is None or value.strip() == "" else value.strip()


def env(name: str, default: str | None = None) -> str | None:
    value = _raw(name)
    return default if value is None else value


def _raw_or_file(name: str) -> str | None:
    """NAME, or the contents of the file named by NAME_FILE (Docker secrets); the file wins."""
    path = _raw(f"{name}_FILE")
    if path:
        try:
            value = Path(path).read_text().strip()
        except OSError as exc:
            PROBLEMS.append(ConfigProblem(f"{name}_FILE", f"a readable file ({exc.strerror})"))
            return None
        return value or None
    return _raw(name)


def envsecret(name: str, default: str | None = None) -> str | None:
    """Read NAME, or the file named by NAME_FILE (Docker secrets); the file wins."""
    value = _raw_or_file(name)
    return default if value is None else value


def envbool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    if value.lower() in ("true", "1", "yes", "on"):
        return True
    if value.lower() in ("false", "0", "no", "off"):
        return False
    PROBLEMS.append(ConfigProblem(name, "true or false"))
    return default


def envint(name: str, default: int, *, minimum: int = 0) -> int:
    value = _raw(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        number = minimum - 1
    if number < minimum:
        PROBLEMS.append(ConfigProblem(name, f"a whole number >= {minimum}"))
        return default
    return number


def envchoice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = _raw(name)
    if value is None:
        return default
    if value.lower() not in choices:
        PROBLEMS.append(ConfigProblem(name, "one of " + " | ".join(choices)))
        return default
    return value.lower()


def envlist(name: str, default: list[str], *, secret: bool = False) -> list[str]:
    """Comma-separated values; with secret=True, NAME_FILE may name a file holding them."""
    value = _raw_or_file(name) if secret else _raw(name)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def envurl(name: str, default: str | None, schemes: tuple[str, ...], *, secret: bool = False) -> str | None:
    """A URL whose scheme is one of `schemes` and which names a host. With secret=True (URLs that
    carry a password), NAME_FILE may name a file holding the URL."""
    from urllib.parse import urlsplit

    value = _raw_or_file(name) if secret else _raw(name)
    if value is None:
        return default
    parts = urlsplit(value)
    if parts.scheme not in schemes or not (parts.hostname or parts.path):
        PROBLEMS.append(ConfigProblem(name, "a URL like " + " or ".join(f"{s}://host:port" for s in schemes)))
        return default
    return value


def envdecimal(name: str, default: str, *, minimum: str = "0"):
    """A decimal number >= minimum (prices: "0.40"), as a Decimal."""
    from decimal import Decimal, InvalidOperation

    value = _raw(name)
    if value is None:
        return Decimal(default)
    try:
        number = Decimal(value)
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite() or number < Decimal(minimum):
        PROBLEMS.append(ConfigProblem(name, f"a decimal number >= {minimum}, like {default}"))
        return Decimal(default)
    return number
