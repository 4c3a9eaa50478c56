"""Policy edits: the inventory's RotationPolicy fields and the schedule's PolicySettings, with a
one-time code, recorded old → new in the same transaction."""

from django.db import transaction

from secrets_admin.accounts.stepup import verify_step_up
from secrets_admin.audit.services import record
from secrets_admin.inventory.models import RotationPolicy, Secret
from secrets_admin.inventory.services import status as status_service
from secrets_admin.schedule import actions
from secrets_admin.schedule.models import PolicySettings
from secrets_admin.schedule.services import clean

POLICY_FIELDS = ("interval_days", "lead_days", "strategy")
SETTINGS_FIELDS = ("overlap_hours", "grace_hours", "max_attempts", *clean.WINDOW_FIELDS)
# Due dates the inventory stores depend on these; the policy's secrets are refreshed with it.
DUE_FIELDS = ("interval_days", "lead_days")
REFRESH_BATCH = 500


def policy_values(policy: RotationPolicy) -> dict:
    """The policy's editable values as the form and the service see them."""
    knobs = PolicySettings.objects.filter(policy=policy).first() or PolicySettings.unsaved(policy)
    return {
        **{name: getattr(policy, name) for name in POLICY_FIELDS},
        **{name: getattr(knobs, name) for name in SETTINGS_FIELDS},
    }


def do_update_policy(policy_id: int, *, actor, otp: str, values: dict, request=None) -> dict:
    """Change a policy's interval, lead, strategy, overlap, grace period, tries and window.

    Returns the changes as {field: [old, new]} (empty: nothing changed, nothing recorded).
    Raises ValidationError (what to fix; checked before the code is spent), StepUpFailed or
    RotationPolicy.DoesNotExist; nothing is saved then. When interval or lead change, the due
    dates of the policy's secrets are recomputed in the same transaction."""
    cleaned = clean.policy(values)
    with transaction.atomic():
        verify_step_up(actor, otp, purpose=f"schedule.policy.update:{policy_id}", request=request)
        policy = RotationPolicy.objects.select_for_update().get(pk=policy_id)
        knobs, _ = PolicySettings.objects.select_for_update().get_or_create(
            policy=policy, defaults=PolicySettings.engine_defaults()
        )
        changes = {}
        for name, value in cleaned.items():
            owner = policy if name in POLICY_FIELDS else knobs
            old = getattr(owner, name)
            if old != value:
                changes[name] = [clean.for_audit(old), clean.for_audit(value)]
                setattr(owner, name, value)
        if not changes:
            return {}
        policy.save(update_fields=POLICY_FIELDS)
        knobs.save()
        refreshed = _refresh_due_dates(policy) if set(changes) & set(DUE_FIELDS) else 0
        data = {"policy": policy.name, "changes": changes, "secrets_refreshed": refreshed}
        record(actions.POLICY_UPDATED, actor=actor, target=policy, data=data, request=request)
    return changes


def _refresh_due_dates(policy) -> int:
    fields = (
        "id",
        "last_rotated",
        "created_at",
        "expires_at",
        "missing_since",
        "problem",
        "next_due",
        "status",
    )
    changed, batch, facts = 0, [], status_service.all_due_facts()
    for secret in (
        Secret.objects.filter(rotation_policy=policy).only(*fields).iterator(chunk_size=REFRESH_BATCH)
    ):
        if status_service.refresh(secret, policy, facts=facts.get(secret.pk, status_service.NO_FACTS)):
            batch.append(secret)
        if len(batch) >= REFRESH_BATCH:
            Secret.objects.bulk_update(batch, ["next_due", "status"])
            changed, batch = changed + len(batch), []
    if batch:
        Secret.objects.bulk_update(batch, ["next_due", "status"])
    return changed + len(batch)
