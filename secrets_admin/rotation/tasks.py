"""Celery tasks: thin wrappers over the engine (JSON args: a run id at most)."""

from celery import shared_task


@shared_task(name="rotation.advance")
def advance(run_id: int) -> dict:
    """Run the next steps of one run while this worker holds its lease (see services.engine)."""
    from secrets_admin.rotation.services.engine import advance as run_steps

    return run_steps(run_id)
