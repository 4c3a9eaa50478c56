"""Rotation services: starting runs (runs.py), running their steps (engine.py), the beats."""

from secrets_admin.rotation.services.runs import (
    PolicyForbids,
    RotationRefused,
    RunAlreadyActive,
    check_rotatable,
    do_cancel,
    do_rotate_now,
    rotate_now_purpose,
    start_run,
)

__all__ = [
    "PolicyForbids",
    "RotationRefused",
    "RunAlreadyActive",
    "check_rotatable",
    "do_cancel",
    "do_rotate_now",
    "rotate_now_purpose",
    "start_run",
]
