"""Celery tasks: thin wrappers over the services (JSON args: a delivery id at most)."""

from celery import shared_task

from secrets_admin.alerts import conditions
from secrets_admin.alerts.services import delivery


@shared_task(name="alerts.deliver")
def deliver(delivery_id: int) -> str:
    """Send one delivery; on a temporary error, queue the next try after its back-off."""
    outcome = delivery.deliver(delivery_id)
    if outcome.retry_in is not None:
        deliver.apply_async(args=[delivery_id], countdown=outcome.retry_in)
    return outcome.status


@shared_task(name="alerts.reconcile")
def reconcile() -> int:
    """Re-queue deliveries whose message was lost or whose worker died (beat, every minute)."""
    return len(delivery.reconcile())


@shared_task(name="alerts.check_certificates")
def check_certificates() -> dict:
    return conditions.check_certificates()


@shared_task(name="alerts.check_backends")
def check_backends() -> dict:
    return conditions.check_backends()
