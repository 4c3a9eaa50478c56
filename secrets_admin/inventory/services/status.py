"""Due dates and status: derived from dates, the rotation policy and sync problems, stored for filtering."""

from datetime import timedelta

from django.db import transaction
from django.db.models import Case, DateTimeField, ExpressionWrapper, F, Q, Value, When
from django.db.models.functions import Coalesce
from django.db.models.lookups import GreaterThan, LessThan
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


# -- the same rules for every secret at once, in SQL -------------------------------------------
# `next_due()` and `status()` above decide for one secret in memory (sync, edit, register);
# `refresh_all()` applies the same rules to the whole table in a few UPDATE statements, so a
# status stays true while a backend is down and no sync runs. tests/inventory/test_status_refresh.py
# runs both over a spread of cases and requires identical answers: change them together.


def _due_expression(policy):
    """SQL for `next_due(secret, policy)`, `policy` being fixed for the rows it is applied to."""
    interval = policy.interval_days if policy is not None else None
    lead = timedelta(days=policy.lead_days if policy is not None else 0)
    by_expiry = ExpressionWrapper(F("expires_at") - Value(lead), output_field=DateTimeField())
    if interval:
        by_interval = ExpressionWrapper(
            Coalesce("last_rotated", "created_at") + Value(timedelta(days=interval)),
            output_field=DateTimeField(),
        )
        due = Case(
            When(expires_at__isnull=True, then=by_interval),
            When(Q(last_rotated__isnull=True, created_at__isnull=True), then=by_expiry),
            When(LessThan(by_expiry, by_interval), then=by_expiry),
            default=by_interval,
            output_field=DateTimeField(),
        )
    else:
        due = by_expiry  # NULL without an expiry
    # Nothing is due before it existed (a NULL on either side compares as unknown: keep `due`).
    return Case(When(GreaterThan(F("created_at"), due), then=F("created_at")), default=due)


def _status_expression(now):
    return Case(
        When(missing_since__isnull=False, then=Value(Status.MISSING)),
        When(~Q(problem=""), then=Value(Status.NEEDS_ATTENTION)),
        When(next_due__lte=now, then=Value(Status.OVERDUE)),
        When(next_due__lte=now + DUE_SOON, then=Value(Status.DUE_SOON)),
        default=Value(Status.OK),
    )


def _differs(column: str, computed: str) -> Q:
    """`column IS DISTINCT FROM computed`, spelt so that both PostgreSQL and SQLite use it."""
    return (
        Q(**{f"{column}__lt": F(computed)})
        | Q(**{f"{column}__gt": F(computed)})
        | Q(**{f"{column}__isnull": True, f"{computed}__isnull": False})
        | Q(**{f"{column}__isnull": False, f"{computed}__isnull": True})
    )


def refresh_all(now=None) -> dict:
    """Recompute `next_due` and `status` of every secret in SQL, writing only rows that change:
    one UPDATE per rotation policy (a handful) plus one for secrets without a policy, then one
    for every status. Returns {"next_due": rows changed, "status": rows changed}. Runs in the
    caller's transaction (or autocommit)."""
    from secrets_admin.inventory.models import RotationPolicy, Secret

    now = now or timezone.now()
    groups = [(Q(rotation_policy=p), p) for p in RotationPolicy.objects.all()]
    groups.append((Q(rotation_policy__isnull=True), None))
    due_changed = 0
    for where, policy in groups:
        due = _due_expression(policy)
        rows = Secret.objects.filter(where).alias(due=due).filter(_differs("next_due", "due"))
        due_changed += rows.update(next_due=due)
    status = _status_expression(now)
    status_changed = Secret.objects.alias(new=status).exclude(status=F("new")).update(status=status)
    return {"next_due": due_changed, "status": status_changed}


def do_refresh_status(*, actor, now=None) -> dict:
    """The periodic recompute (beat `inventory.refresh_status`): `refresh_all` in one short
    transaction, audited with its counts when anything changed (nothing is written otherwise)."""
    from secrets_admin.audit.services import record
    from secrets_admin.inventory import actions

    with transaction.atomic():
        changed = refresh_all(now)
        if changed["next_due"] or changed["status"]:
            record(actions.STATUS_REFRESHED, actor=actor, data=changed)
    return changed
