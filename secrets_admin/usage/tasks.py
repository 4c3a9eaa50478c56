"""Celery tasks: thin wrappers over the services. The rollup itself is written by the shared
audit-file reader (beat's `breakglass.record_sessions`, every 5 s)."""

from celery import shared_task

from secrets_admin.usage.services import ingest


@shared_task(name="usage.link_secrets")
def link_secrets() -> int:
    return ingest.link_secrets()


@shared_task(name="usage.summarise")
def summarise() -> dict:
    from secrets_admin.usage.services import summary

    figures = summary.refresh()
    return {"stale": figures["stale_count"], "spikes": len(figures["spikes"])}


@shared_task(name="usage.prune")
def prune() -> int:
    from secrets_admin.usage.services import retention

    return retention.prune()
