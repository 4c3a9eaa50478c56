"""Scores: each measure once, then every framework's controls from the measures they map to.

A control's status is the worst of its measures' (a measure with nothing to measure does not
count; a control whose measures all have nothing is "none"). A framework's score is
(pass + ½ partial) / (controls measured), as a percentage; controls with no evidence are left
out of the score and shown as such.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from secrets_admin.compliance import mapping as mapping_module
from secrets_admin.compliance.measures import FAIL, MEASURES, NONE, PARTIAL, PASS, RANK, Period, Result

DEFAULT_DAYS = 90


@dataclass
class ControlResult:
    control: mapping_module.Control
    status: str
    results: list[Result]


@dataclass
class FrameworkResult:
    framework: mapping_module.Framework
    controls: list[ControlResult]
    counts: dict = field(default_factory=dict)
    score: float | None = None


def period_for(days: int = DEFAULT_DAYS, now: datetime | None = None) -> Period:
    now = now or timezone.now()
    return Period(now - timedelta(days=days), now, now)


def control_status(results: list[Result]) -> str:
    measured = [r.status for r in results if r.status != NONE]
    return max(measured, key=RANK.__getitem__) if measured else NONE


def score(counts: dict) -> float | None:
    measured = counts[PASS] + counts[PARTIAL] + counts[FAIL]
    return round(100 * (counts[PASS] + 0.5 * counts[PARTIAL]) / measured, 1) if measured else None


def measure(period: Period, names, *, mapping=None, limit: int = 50) -> dict[str, Result]:
    mapping = mapping or mapping_module.frameworks()
    return {name: MEASURES[name][0](period, mapping.parameters[name], limit) for name in names}


def evaluate(
    period: Period | None = None, *, frameworks=None, mapping=None, limit: int = 50
) -> list[FrameworkResult]:
    """Results for `frameworks` (ids; all by default), each measure evaluated once."""
    mapping = mapping or mapping_module.frameworks()
    period = period or period_for()
    chosen = [f for f in mapping.frameworks if frameworks is None or f.id in frameworks]
    names = sorted({m for f in chosen for c in f.controls for m in c.measures})
    results = measure(period, names, mapping=mapping, limit=limit)
    evaluated = []
    for framework in chosen:
        controls = []
        for control in framework.controls:
            own = [results[m] for m in control.measures]
            controls.append(ControlResult(control, control_status(own), own))
        counts = {s: sum(1 for c in controls if c.status == s) for s in (PASS, PARTIAL, FAIL, NONE)}
        evaluated.append(FrameworkResult(framework, controls, counts, score(counts)))
    return evaluated
