"""Audit action names the rotation engine writes (registered with the ledger at start-up)."""

from secrets_admin.audit.actions import register

RUN_STARTED = register(
    "rotation.run.started", "A rotation run was started (strategy, reason, run token in the data)",
    sentence="{actor} started a {strategy} rotation of {secret} ({reason})",
)  # fmt: skip
STEP_FINISHED = register(
    "rotation.step.finished", "A rotation step succeeded (step, duration, facts such as version ids)",
    sentence="{actor} finished step {step} of {target} in {duration_ms} ms",
)  # fmt: skip
STEP_FAILED = register(
    "rotation.step.failed", "A rotation step failed (step, attempt, the error in words, next try)",
    sentence="{actor}: step {step} of {target} failed: {error}",
)  # fmt: skip
RUN_FINISHED = register(
    "rotation.run.finished", "A rotation run finished: the new version is current",
    sentence="{actor} finished {target}: version {new_version_id} is current",
)  # fmt: skip
RUN_FAILED = register(
    "rotation.run.failed", "A rotation run stopped (failed for good, or needs a person)",
    sentence="{actor} stopped {target}: {error}",
)  # fmt: skip
RUN_RESUMED = register(
    "rotation.run.resumed", "The reconciler took over a run whose worker stopped answering",
    sentence="{actor} resumed {target} at step {step}",
)  # fmt: skip
RUN_CANCELLED = register(
    "rotation.run.cancelled", "Someone cancelled an active rotation run",
    sentence="{actor} cancelled {target}",
)  # fmt: skip
VERSION_RETIRED = register(
    "rotation.version.retired", "The old version of a blue-green rotation was retired after its overlap",
    sentence="{actor} retired version {version_id} of {target}",
)  # fmt: skip
HOOK_UPDATED = register(
    "rotation.hook.updated", "Someone set the rotation hook of a secret or policy (host only in the data)",
    sentence="{actor} set the rotation hook of {target} to {host}",
)  # fmt: skip
HOOK_REMOVED = register(
    "rotation.hook.removed", "Someone cleared the rotation hook of a secret or policy (host only in data)",
    sentence="{actor} cleared the rotation hook of {target} (was {host})",
)  # fmt: skip
