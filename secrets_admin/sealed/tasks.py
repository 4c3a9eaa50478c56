"""Celery tasks: thin wrappers over secrets_admin.sealed.services (JSON args: ids at most)."""

from celery import shared_task

from secrets_admin.sealed import services


@shared_task(name="sealed.check_keys")
def check_keys() -> dict:
    """Beat, hourly: note new sealing keys and keep reminding until each is backed up."""
    return services.check_sealing_keys()


@shared_task(name="sealed.launch_campaign")
def launch_campaign(campaign_id: int) -> dict:
    campaign = services.launch_campaign(campaign_id)
    return {"campaign": campaign.pk, "started": len(campaign.started_runs), "refused": len(campaign.refused)}
