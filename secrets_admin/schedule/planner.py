"""The planner: which policy a secret effectively follows, when it may rotate, and which secrets
the scheduler should start now.

    effective_policy(secret) -> EffectivePolicy | None
    in_window(secret, when) -> bool
    next_slot(secret, after) -> datetime | None
    due_secrets(now) -> QuerySet[Secret]          # what the rotation beat starts

`due_secrets` is set-based: one query per policy whose window is open finds the plain secrets
(index on next_due); only secrets with an override (few, by nature) are worked out one by one.
Linked secrets are staggered: a secret waits while a linked secret rotates, started within the
gap (SCHEDULE_LINK_GAP_MINUTES), or is due in the same batch ahead of it.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import SimpleNamespace

from django.apps import apps
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from secrets_admin.inventory.models import RotationPolicy, Secret
from secrets_admin.inventory.services.status import next_due as due_by_policy
from secrets_admin.schedule.models import PolicySettings, SecretLink, SecretOverride
from secrets_admin.schedule.windows import Window


def link_gap() -> timedelta:
    return timedelta(minutes=settings.SCHEDULE_LINK_GAP_MINUTES)


@dataclass(frozen=True)
class EffectivePolicy:
    """A secret's policy with its override applied. `overridden` names what the override changed."""

    policy_id: int | None
    name: str
    interval_days: int | None
    lead_days: int
    strategy: str
    overlap_hours: int
    grace_hours: int
    max_attempts: int
    window: Window | None
    exempt_until: datetime | None = None
    exempt_reason: str = ""
    overridden: tuple[str, ...] = field(default=())

    def exempt_at(self, when: datetime) -> bool:
        return self.exempt_until is not None and when < self.exempt_until


def _merge(policy: RotationPolicy | None, knobs: PolicySettings | None, override: SecretOverride | None):
    if policy is None and not (override and override.strategy):
        return None  # nothing says how to rotate it: the scheduler leaves it alone
    knobs = knobs or PolicySettings()
    base = {
        "policy_id": policy.pk if policy else None,
        "name": policy.name if policy else "(own settings)",
        "interval_days": policy.interval_days if policy else None,
        "lead_days": policy.lead_days if policy else 0,
        "strategy": policy.strategy if policy else "",
        "overlap_hours": knobs.overlap_hours,
        "grace_hours": knobs.grace_hours,
        "max_attempts": knobs.max_attempts,
        "window": knobs.window,
    }
    overridden = []
    if override is not None:
        for name in ("interval_days", "lead_days"):
            if getattr(override, name) is not None:
                base[name] = getattr(override, name)
                overridden.append(name)
        if override.strategy:
            base["strategy"] = override.strategy
            overridden.append("strategy")
        if override.window is not None:
            base["window"] = override.window
            overridden.append("window")
        if override.exempt_until is not None:
            base.update(exempt_until=override.exempt_until, exempt_reason=override.exempt_reason)
            overridden.append("exempt")
    return EffectivePolicy(**base, overridden=tuple(overridden))


class Plan:
    """Everything the planner reads besides the secrets themselves, loaded once: policies with
    their settings, overrides (all, or those of the given secrets) and links."""

    def __init__(self, secret_ids=None):
        self.policies = {p.pk: p for p in RotationPolicy.objects.all()}
        self.knobs = {k.policy_id: k for k in PolicySettings.objects.all()}
        overrides = SecretOverride.objects.all()
        if secret_ids is not None:
            overrides = overrides.filter(secret_id__in=secret_ids)
        self.overrides = {o.secret_id: o for o in overrides}
        self.partners: dict[int, set[int]] = {}
        for first, second in SecretLink.objects.values_list("first_id", "second_id"):
            self.partners.setdefault(first, set()).add(second)
            self.partners.setdefault(second, set()).add(first)
        self._by_policy = {pk: _merge(p, self.knobs.get(pk), None) for pk, p in self.policies.items()}

    def effective(self, secret) -> EffectivePolicy | None:
        override = self.overrides.get(secret.pk)
        if override is None:
            return self._by_policy.get(secret.rotation_policy_id)
        policy = self.policies.get(secret.rotation_policy_id)
        return _merge(policy, self.knobs.get(secret.rotation_policy_id), override)

    def due(self, secret, effective=None) -> datetime | None:
        """When the secret is due under its effective policy (the inventory's next_due unless an
        override changes interval or lead)."""
        override = self.overrides.get(secret.pk)
        if override is None or not override.changes_due_date:
            return secret.next_due
        effective = effective or self.effective(secret)
        if effective is None:
            return secret.next_due
        rule = SimpleNamespace(interval_days=effective.interval_days, lead_days=effective.lead_days)
        return due_by_policy(secret, rule)

    def slot(self, secret, after: datetime) -> datetime | None:
        """The first instant at or after `after` when the schedule may start the secret's rotation:
        not before it is due, not while it is exempt, inside its window. None: never planned."""
        effective = self.effective(secret)
        if effective is None:
            return None
        due = self.due(secret, effective)
        if due is None:
            return None
        start = max(after, due)
        if effective.exempt_at(start):
            start = effective.exempt_until
        return effective.window.next_open(start) if effective.window else start


def effective_policy(secret) -> EffectivePolicy | None:
    """The policy `secret` follows, its override applied; None when it has neither a policy nor
    an override naming a strategy (the scheduler does not rotate it)."""
    return Plan(secret_ids=[secret.pk]).effective(secret)


def in_window(secret, when: datetime) -> bool:
    """True when `when` is inside the secret's rotation window (always, without a window)."""
    effective = effective_policy(secret)
    return effective is None or effective.window is None or effective.window.contains(when)


def next_slot(secret, after: datetime) -> datetime | None:
    """The first instant at or after `after` when the schedule may rotate `secret` (due, not
    exempt, in its window); None when nothing plans a rotation. Links are not considered here:
    see due_secrets() and the calendar."""
    return Plan(secret_ids=[secret.pk]).slot(secret, after)


def _rotation_runs():
    try:
        return apps.get_model("rotation", "RotationRun")
    except LookupError:
        return None  # the rotation engine is not installed: recent rotations come from last_rotated


def busy_secrets(secret_ids, now: datetime, gap: timedelta) -> set[int]:
    """Of `secret_ids`, those rotating now or whose rotation started less than `gap` ago."""
    if not secret_ids:
        return set()
    since = now - gap
    busy = set(Secret.objects.filter(pk__in=secret_ids, last_rotated__gt=since).values_list("pk", flat=True))
    runs = _rotation_runs()
    if runs is not None:
        recent = Q(state__in=runs.ACTIVE) | Q(created_at__gt=since) | Q(started_at__gt=since)
        busy |= set(runs.objects.filter(recent, secret_id__in=secret_ids).values_list("secret_id", flat=True))
    return busy


def due_secrets(now: datetime | None = None):
    """The secrets the scheduler should start now: due, inside their window, not exempt, not
    missing in their backend, with a strategy to rotate them, not rotating already, and not
    colliding with a linked secret (rotating, started within the gap, or due in this batch
    ahead of it: earlier due date, then lower id). Returns a QuerySet ordered by due date."""
    now = now or timezone.now()
    gap = link_gap()
    plan = Plan()
    open_policies = [
        pk for pk, eff in plan._by_policy.items() if eff and (eff.window is None or eff.window.contains(now))
    ]
    plain = Secret.objects.filter(
        missing_since__isnull=True, next_due__lte=now, rotation_policy_id__in=open_policies
    )
    if plan.overrides:
        plain = plain.exclude(pk__in=list(plan.overrides))
    candidates = list(plain.order_by().values_list("next_due", "pk"))
    fields = ("pk", "rotation_policy_id", "next_due", "last_rotated", "created_at", "expires_at")
    for secret in Secret.objects.filter(pk__in=list(plan.overrides), missing_since__isnull=True).only(
        *fields
    ):
        effective = plan.effective(secret)
        if effective is None or effective.exempt_at(now):
            continue
        due = plan.due(secret, effective)
        if due is not None and due <= now and (effective.window is None or effective.window.contains(now)):
            candidates.append((due, secret.pk))
    candidates.sort()
    ids = [pk for _due, pk in candidates]
    linked = {partner for pk in ids for partner in plan.partners.get(pk, ())}
    busy = busy_secrets(linked, now, gap) | _active(ids)
    chosen: set[int] = set()
    for pk in ids:
        if pk in busy:
            continue
        partners = plan.partners.get(pk, ())
        if any(p in busy or p in chosen for p in partners):
            continue  # staggered: it waits for the linked secret
        chosen.add(pk)
    return Secret.objects.filter(pk__in=chosen).order_by("next_due", "id")


def _active(ids) -> set[int]:
    """Candidates that already have an active run (the engine would refuse a second one)."""
    runs = _rotation_runs()
    if runs is None or not ids:
        return set()
    return set(
        runs.objects.filter(secret_id__in=ids, state__in=runs.ACTIVE).values_list("secret_id", flat=True)
    )
