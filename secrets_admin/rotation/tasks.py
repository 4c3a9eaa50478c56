"""Celery tasks: thin wrappers over the rotation services (JSON args: a run id at most)."""

from celery import shared_task


@shared_task(name="rotation.advance", ignore_result=True)  # the run's row is the result
def advance(run_id: int) -> dict:
    """Run the next steps of one run while this worker holds its lease (see services.engine)."""
    from secrets_admin.rotation.services.engine import advance as run_steps

    return run_steps(run_id)


@shared_task(name="rotation.reconcile")
def reconcile() -> dict:
    """Beat: re-queue runs whose worker died or whose message was lost."""
    from secrets_admin.rotation.services.reconcile import reconcile as run

    return run()


@shared_task(name="rotation.schedule")
def schedule() -> dict:
    """Beat: start a run for every secret that is due (and inside its window)."""
    from secrets_admin.rotation.services.scheduler import start_due

    return start_due()


@shared_task(name="rotation.missed")
def missed() -> dict:
    """Beat: alert on due secrets that have not rotated (critical after the grace period)."""
    from secrets_admin.rotation.services.scheduler import detect_missed

    return detect_missed()


@shared_task(name="rotation.retire")
def retire() -> dict:
    """Beat: retire blue-green's old versions whose overlap is over."""
    from secrets_admin.rotation.services.retire import retire_due

    return retire_due()


@shared_task(name="rotation.advance_chunk", ignore_result=True)
def advance_chunk(run_ids: list[int]) -> dict:
    """Run the steps of many runs (the scheduler's chunks), one transaction per step for all of
    them (see services.chunks)."""
    from secrets_admin.rotation.services.chunks import advance_chunk as run_chunk

    return run_chunk(run_ids)
