"""Sealed Secrets state changes: sealing keys seen and backed up, re-seal campaigns.

Each `do_*` runs in one short transaction with its audit entry; nothing here talks to Git (the
rotation runs a campaign starts do that, in the engine, outside any transaction).
"""

import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from secrets_admin.accounts.stepup import verify_step_up
from secrets_admin.alerts import events
from secrets_admin.alerts.services import raise_alert, resolve_alert
from secrets_admin.audit.services import actor_name, record
from secrets_admin.backends import sealed_certs
from secrets_admin.inventory.models import Secret
from secrets_admin.sealed import actions
from secrets_admin.sealed.models import ResealCampaign, SealingKey

log = logging.getLogger(__name__)
CAMPAIGN_STATUSES = ("old", "expiring", "expired")
CAMPAIGN_PURPOSE = "sealed.campaign"
SYSTEM = "sealed-secrets check"


def backup_purpose(key: SealingKey) -> str:
    return f"sealed.key_backup:{key.fingerprint}"


def sealed_backends() -> list[str]:
    return [name for name, conf in settings.SECRET_BACKENDS.items() if conf.get("kind") == "sealed"]


def sealed_secrets():
    """Inventory rows of every configured sealed backend that still exist there."""
    return Secret.objects.filter(backend__in=sealed_backends()).exclude(status="missing")


def campaign_candidates():
    """Manifests sealed for a certificate that is old, expiring or expired."""
    return sealed_secrets().filter(details__certificate_status__in=CAMPAIGN_STATUSES).order_by("path", "id")


# --- sealing keys ----------------------------------------------------------------------------
def check_sealing_keys() -> dict:
    """Beat (hourly) and seed_demo: note every configured certificate's key, and keep a backup
    reminder open (alert sealed.key_backup) for each key nobody has confirmed. Idempotent."""
    seen, reminded = [], []
    for cert in sealed_certs.certificates():
        with transaction.atomic():
            key, created = SealingKey.objects.get_or_create(
                fingerprint=cert.fingerprint,
                defaults={"subject": cert.subject[:255], "not_after": cert.not_after},
            )
            if created:
                record(
                    actions.KEY_SEEN, actor=SYSTEM, target=key, data={"not_after": cert.not_after.isoformat()}
                )
                seen.append(key.fingerprint)
        if key.backed_up_at is None and cert.not_after > timezone.now():
            raise_alert(
                events.SEALED_KEY_BACKUP,
                subject=f"Back up the sealing key {cert.fingerprint} ({cert.subject}); confirm on /sealed/",
                facts={"fingerprint": cert.fingerprint, "not_after": cert.not_after.isoformat()},
                key=key.alert_key,
                target=key,
            )
            reminded.append(key.fingerprint)
    return {"seen": seen, "reminded": reminded}


def do_confirm_key_backup(key_id: int, *, actor, code: str, request=None) -> SealingKey:
    """A security engineer confirms (one-time code bound to this key) that the key is backed up;
    the reminder closes. Confirming twice changes nothing the second time."""
    with transaction.atomic():
        key = SealingKey.objects.select_for_update().get(pk=key_id)
        verify_step_up(actor, code, purpose=backup_purpose(key), request=request)
        if key.backed_up_at is not None:
            return key
        key.backed_up_at, key.backed_up_by = timezone.now(), actor_name(actor)
        key.save(update_fields=["backed_up_at", "backed_up_by"])
        record(
            actions.KEY_BACKED_UP,
            actor=actor,
            target=key,
            data={"fingerprint": key.fingerprint},
            request=request,
        )
        resolve_alert(key.alert_key, actor=actor, request=request)
    return key


# --- re-seal campaigns -----------------------------------------------------------------------
def do_start_reseal_campaign(*, actor, code: str, request=None) -> ResealCampaign:
    """Start a campaign (one-time code): record it, then, after the commit, a task starts one
    rotation run (strategy reseal, reason campaign) per manifest on an old certificate."""
    with transaction.atomic():
        verify_step_up(actor, code, purpose=CAMPAIGN_PURPOSE, request=request)
        wanted = campaign_candidates().count()
        campaign = ResealCampaign.objects.create(
            actor=actor if getattr(actor, "is_authenticated", False) else None,
            actor_name=actor_name(actor),
            statuses=list(CAMPAIGN_STATUSES),
            wanted=wanted,
        )
        record(
            actions.CAMPAIGN_STARTED, actor=actor, target=campaign, data={"wanted": wanted}, request=request
        )
        transaction.on_commit(lambda: _enqueue(campaign.pk))
    return campaign


def _enqueue(campaign_id: int) -> None:
    from secrets_admin.sealed.tasks import launch_campaign

    launch_campaign.delay(campaign_id)


def launch_campaign(campaign_id: int) -> ResealCampaign:
    """Start the campaign's runs (each start_run is its own short transaction; a secret already
    being rotated or that the strategy refuses is noted in words) and record the outcome.
    Idempotent: a launched campaign is not launched again."""
    from secrets_admin.rotation.services import start_run
    from secrets_admin.rotation.services.runs import RotationRefused

    campaign = ResealCampaign.objects.get(pk=campaign_id)
    if campaign.launched_at is not None:
        return campaign
    started, refused = [], []
    for secret in campaign_candidates():
        try:
            run = start_run(
                secret, actor=campaign.actor or campaign.actor_name, reason="campaign", strategy="reseal"
            )
        except RotationRefused as exc:
            refused.append({"secret": secret.pk, "path": secret.path, "reason": str(exc)[:300]})
        else:
            started.append(run.pk)
    with transaction.atomic():
        claimed = ResealCampaign.objects.filter(pk=campaign_id, launched_at__isnull=True).update(
            launched_at=timezone.now(), started_runs=started, refused=refused
        )
        campaign.refresh_from_db()
        if claimed:
            record(
                actions.CAMPAIGN_LAUNCHED,
                actor=campaign.actor or campaign.actor_name,
                target=campaign,
                data={"started": len(started), "refused": len(refused), "runs": started},
            )
    return campaign
