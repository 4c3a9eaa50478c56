"""The framework mapping (frameworks.yaml): load it, check every part, and say where a mistake is.

`load(path)` returns `Mapping` or raises `MappingError` whose message names the file and the
place ("frameworks.yaml: frameworks[1] (iso27001) > controls[2] (A.8.2) > measures: unknown
measure 'mfa'…"). `frameworks()` is the checked mapping of the repository's own file, loaded
once; the system check compliance.E001 loads it at start-up, so a bad file stops `check`.
"""

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml
from django.utils.text import slugify

DEFAULT_PATH = Path(__file__).with_name("frameworks.yaml")
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")

# Each measure's parameters: name -> (type, check, what it must be, default).
_SHARE = (float, lambda v: 0 <= v <= 1, "a number from 0 to 1")
_DAYS = (int, lambda v: 0 < v <= 3650, "a whole number of days from 1 to 3650")
PARAMETERS = {
    "rotation_within_policy": {"partial_at": (*_SHARE, 0.95)},
    "mfa_privileged": {
        "partial_at": (*_SHARE, 0.9),
        "groups": (
            list,
            lambda v: v and all(isinstance(g, str) and g for g in v),
            "a list of group names",
            ["security-team", "cto"],
        ),
    },
    "dual_control_emergency": {"partial_at": (*_SHARE, 1.0)},
    "audit_integrity": {
        "verified_within_hours": (
            int,
            lambda v: 0 < v <= 24 * 31,
            "a whole number of hours from 1 to 744",
            25,
        )
    },
    "least_privilege_grants": {
        "partial_at": (*_SHARE, 0.95),
        "max_scope": (int, lambda v: 0 < v <= 1000, "a whole number from 1 to 1000", 10),
    },
    "key_expiry": {"critical_days": (*_DAYS, 7), "warn_days": (*_DAYS, 30)},
}
MEASURES = tuple(PARAMETERS)


class MappingError(ValueError):
    """The mapping file is malformed; the message names the file and the place."""


@dataclass(frozen=True)
class Control:
    id: str
    slug: str
    title: str
    description: str
    measures: tuple[str, ...]


@dataclass(frozen=True)
class Framework:
    id: str
    name: str
    edition: str
    controls: tuple[Control, ...]

    def control(self, slug: str) -> Control | None:
        return next((c for c in self.controls if c.slug == slug), None)


@dataclass(frozen=True)
class Mapping:
    frameworks: tuple[Framework, ...]
    parameters: dict  # measure -> {parameter: value}, defaults filled in

    def framework(self, framework_id: str) -> Framework | None:
        return next((f for f in self.frameworks if f.id == framework_id), None)


def _fail(where: str, problem: str):
    raise MappingError(f"{where}: {problem}")


def _text(node: dict, key: str, where: str, *, required: bool = True) -> str:
    value = node.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str | int | float) or isinstance(value, bool) or not str(value).strip():
        _fail(f"{where} > {key}", "must be a non-empty text")
    return " ".join(str(value).split())


def _mapping_node(value, where: str, keys: set[str], required: set[str]) -> dict:
    if not isinstance(value, dict):
        _fail(where, f"must be a mapping with {', '.join(sorted(required))}")
    unknown = set(value) - keys
    if unknown:
        _fail(
            where,
            f"unknown key(s) {', '.join(sorted(map(str, unknown)))}; allowed: {', '.join(sorted(keys))}",
        )
    missing = required - set(value)
    if missing:
        _fail(where, f"missing {', '.join(sorted(missing))}")
    return value


def _parameters(node, where: str) -> dict:
    node = node or {}
    if not isinstance(node, dict):
        _fail(where, "must be a mapping of measure names to their parameters")
    result = {}
    for name, spec in PARAMETERS.items():
        given = node.get(name) or {}
        place = f"{where} > {name}"
        if not isinstance(given, dict):
            _fail(place, "must be a mapping of parameters")
        unknown = set(given) - set(spec)
        if unknown:
            _fail(place, f"unknown parameter(s) {', '.join(sorted(unknown))}; allowed: {', '.join(spec)}")
        values = {}
        for parameter, (kind, check, words, default) in spec.items():
            value = given.get(parameter, list(default) if isinstance(default, list) else default)
            if kind is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if value is None or not isinstance(value, kind) or isinstance(value, bool) or not check(value):
                _fail(f"{place} > {parameter}", f"must be {words} (found {value!r})")
            values[parameter] = value
        result[name] = values
    unknown = set(node) - set(PARAMETERS)
    if unknown:
        _fail(
            where, f"unknown measure(s) {', '.join(sorted(map(str, unknown)))}; known: {', '.join(MEASURES)}"
        )
    if result["key_expiry"]["critical_days"] > result["key_expiry"]["warn_days"]:
        _fail(f"{where} > key_expiry", "critical_days must not be more than warn_days")
    return result


def _control(node, where: str) -> Control:
    node = _mapping_node(node, where, {"id", "title", "description", "measures"}, {"id", "title", "measures"})
    control_id = _text(node, "id", where)
    where = f"{where} ({control_id})"
    measures = node["measures"]
    if not isinstance(measures, list) or not measures:
        _fail(f"{where} > measures", "must be a non-empty list of measure names")
    for index, name in enumerate(measures):
        if name not in PARAMETERS:
            _fail(f"{where} > measures[{index}]", f"unknown measure {name!r}; known: {', '.join(MEASURES)}")
    if len(set(measures)) != len(measures):
        _fail(f"{where} > measures", "names a measure twice")
    slug = slugify(control_id.replace(".", "-").replace("(", "-")) or "control"
    return Control(
        control_id,
        slug,
        _text(node, "title", where),
        _text(node, "description", where, required=False),
        tuple(measures),
    )


def _framework(node, where: str) -> Framework:
    node = _mapping_node(node, where, {"id", "name", "edition", "controls"}, {"id", "name", "controls"})
    framework_id = _text(node, "id", where)
    if not SLUG.match(framework_id):
        _fail(
            f"{where} > id",
            f"{framework_id!r} must be lower case letters, digits and dashes (it is a URL part)",
        )
    where = f"{where} ({framework_id})"
    controls = node["controls"]
    if not isinstance(controls, list) or not controls:
        _fail(f"{where} > controls", "must be a non-empty list of controls")
    parsed = tuple(_control(item, f"{where} > controls[{i}]") for i, item in enumerate(controls))
    seen: dict[str, str] = {}
    for control in parsed:
        for key in (f"id:{control.id}", f"slug:{control.slug}"):
            if key in seen:
                _fail(
                    f"{where} > controls",
                    f"control {control.id!r} repeats {seen[key]!r} (ids and their URL forms must be unique)",
                )
            seen[key] = control.id
    return Framework(
        framework_id, _text(node, "name", where), _text(node, "edition", where, required=False), parsed
    )


def parse(text: str, name: str = "frameworks.yaml") -> Mapping:
    """Check the YAML `text` (named `name` in messages) and return the Mapping."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        place = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "somewhere"
        _fail(f"{name}: {place}", f"not valid YAML ({getattr(exc, 'problem', None) or exc})")
    document = _mapping_node(document, name, {"version", "measures", "frameworks"}, {"version", "frameworks"})
    if document["version"] != 1:
        _fail(f"{name} > version", f"must be 1 (found {document['version']!r})")
    frameworks = document["frameworks"]
    if not isinstance(frameworks, list) or not frameworks:
        _fail(f"{name} > frameworks", "must be a non-empty list")
    parsed = tuple(_framework(item, f"{name} > frameworks[{i}]") for i, item in enumerate(frameworks))
    ids = [f.id for f in parsed]
    if len(set(ids)) != len(ids):
        _fail(f"{name} > frameworks", f"framework ids must be unique (found {', '.join(ids)})")
    return Mapping(parsed, _parameters(document.get("measures"), f"{name} > measures"))


def load(path: Path | str = DEFAULT_PATH) -> Mapping:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MappingError(f"{path}: cannot be read ({exc})") from None
    return parse(text, path.name)


@cache
def frameworks() -> Mapping:
    """The repository's own mapping, loaded and checked once per process."""
    return load(DEFAULT_PATH)
