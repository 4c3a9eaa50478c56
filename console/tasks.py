from celery import shared_task
from django.utils import timezone


@shared_task(name="console.heartbeat")
def heartbeat():
    """Beat's liveness signal: proves broker, worker and beat are connected end to end."""
    return timezone.now().isoformat()


@shared_task(name="console.echo")
def echo(value: str):
    """Round-trip check used by readiness smoke tests."""
    return value
