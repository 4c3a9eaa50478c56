"""Due dates and status: derived from dates, the rotation policy and sync problems, stored for filtering."""

from datetime import timedelta

from django.utils import timezone

from secrets_admin.inventory.models.choices import Status

# How far ahead a due date turns a secret from "ok" to "due soon".
DUE_SOON = timedelta(days=7)


def next_due(secret, policy):
    """When the secret must next be rotated, or None when nothing says so.

    Interval policies count from the last rotation (or creation); expiry policies (no interval)
    are due `lead_days` before `expires_at`. An expiry always bounds the due date, and nothing is
    due before it existed: a certificate that lives shorter than its lead is due when it is made."""
    due = None
    if policy is not None and policy.interval_days:
        base = secret.last_rotated or secret.created_at
        if base is not None:
            due = base + timedelta(days=policy.interval_days)
    if secret.expires_at is not None:
        lead = timedelta(days=policy.lead_days) if policy is not None else timedelta(0)
        by_expiry = secret.expires_at - lead
        due = by_expiry if due is None else min(due, by_expiry)
    if due is not None and secret.created_at is not None:
        due = max(due, secret.created_at)
    return due


def status(secret, now=None) -> str:
    """missing > needs attention > overdue > due soon > ok."""
    now = now or timezone.now()
    if secret.missing_since is not None:
        return Status.MISSING
    if secret.problem:
        return Status.NEEDS_ATTENTION
    if secret.next_due is not None:
        if secret.next_due <= now:
            return Status.OVERDUE
        if secret.next_due <= now + DUE_SOON:
            return Status.DUE_SOON
    return Status.OK


def refresh(secret, policy=None, now=None) -> bool:
    """Recompute `next_due` and `status` in place (policy passed to avoid a query). True if changed."""
    if policy is None and secret.rotation_policy_id is not None:
        policy = secret.rotation_policy
    before = (secret.next_due, secret.status)
    secret.next_due = next_due(secret, policy)
    secret.status = status(secret, now)
    return (secret.next_due, secret.status) != before
