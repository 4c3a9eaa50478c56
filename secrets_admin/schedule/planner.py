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
from django.db import connections, router
from django.db.models import Exists, OuterRef, Q
from django.db.models.expressions import RawSQL
from django.utils import timezone

from secrets_admin.inventory.models import RotationPolicy, Secret
from secrets_admin.inventory.services.status import DueFacts, renewals
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
    knobs = knobs or PolicySettings.unsaved()
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
        self._partners = None
        self._renewed = None
        self._by_policy = {pk: _merge(p, self.knobs.get(pk), None) for pk, p in self.policies.items()}

    @property
    def partners(self) -> dict[int, set[int]]:
        """secret id -> the ids of the secrets linked to it (loaded on first use)."""
        if self._partners is None:
            self._partners = {}
            for first, second in SecretLink.objects.values_list("first_id", "second_id"):
                self._partners.setdefault(first, set()).add(second)
                self._partners.setdefault(second, set()).add(first)
        return self._partners

    def effective(self, secret) -> EffectivePolicy | None:
        override = self.overrides.get(secret.pk)
        if override is None:
            return self._by_policy.get(secret.rotation_policy_id)
        policy = self.policies.get(secret.rotation_policy_id)
        return _merge(policy, self.knobs.get(secret.rotation_policy_id), override)

    def due(self, secret, effective=None) -> datetime | None:
        """When the secret is due: the inventory's next_due, which follows the override too (the
        inventory's status rules read the same DueFacts); worked out here for a secret with an
        override, so an override is honoured even before the stored date is recomputed."""
        override = self.overrides.get(secret.pk)
        if override is None:
            return secret.next_due
        if not override.changes_due_date:  # the stored date, held to the exemption's end
            due, until = secret.next_due, override.exempt_until
            return max(due, until) if due is not None and until is not None else due
        if self._renewed is None:
            self._renewed = renewals(list(self.overrides))
        facts = DueFacts(
            interval_days=override.interval_days,
            lead_days=override.lead_days,
            exempt_until=override.exempt_until,
            renewed_until=self._renewed.get(secret.pk),
        )
        return due_by_policy(secret, self.policies.get(secret.rotation_policy_id), facts)

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


def ids_q(ids) -> Q:
    """pk IN ids, as one array parameter on PostgreSQL (thousands of separate parameters cost
    more to send than the query takes to run)."""
    ids = sorted(ids)
    if connections[router.db_for_read(Secret)].vendor == "postgresql":
        return Q(pk__in=RawSQL("SELECT unnest(%s::bigint[])", (ids,)))
    return Q(pk__in=ids)


def _has_link() -> Q:
    return Q(pk__in=SecretLink.objects.values("first_id")) | Q(pk__in=SecretLink.objects.values("second_id"))


def _busy(where: Q, now: datetime, gap: timedelta) -> set[int]:
    """Secrets matching `where` that rotate now or whose rotation started less than `gap` ago."""
    since = now - gap
    busy = set(Secret.objects.filter(where, last_rotated__gt=since).values_list("pk", flat=True))
    runs = _rotation_runs()
    if runs is not None:
        recent = Q(state__in=runs.ACTIVE) | Q(created_at__gt=since) | Q(started_at__gt=since)
        ids = Secret.objects.filter(where).values("pk")
        busy |= set(runs.objects.filter(recent, secret_id__in=ids).values_list("secret_id", flat=True))
    return busy


def busy_secrets(secret_ids, now: datetime, gap: timedelta) -> set[int]:
    """Of `secret_ids`, those rotating now or whose rotation started less than `gap` ago."""
    return _busy(ids_q(secret_ids), now, gap) if secret_ids else set()


def _startable() -> Q:
    """Not rotating now, and not waiting for a person: the engine does not start a secret again
    on schedule while its last run failed or needs a person, so it must not hold back the
    secrets linked to it either."""
    runs = _rotation_runs()
    if runs is None:
        return Q()
    newer = runs.objects.filter(secret_id=OuterRef("secret_id"), created_at__gt=OuterRef("created_at"))
    stuck = runs.objects.filter(state__in=[runs.State.FAILED, runs.State.NEEDS_PERSON]).exclude(Exists(newer))
    active = runs.objects.filter(state__in=runs.ACTIVE)
    return ~Q(pk__in=active.values("secret_id")) & ~Q(pk__in=stuck.values("secret_id"))


def _open(window: Window | None, now: datetime, cache: dict) -> bool:
    """Whether `window` is open at `now`, worked out once per distinct window."""
    if window is None:
        return True
    if window not in cache:
        cache[window] = window.contains(now)
    return cache[window]


def due_secrets(now: datetime | None = None):
    """The secrets the scheduler should start now: due, inside their window, not exempt, not
    missing in their backend, with a strategy to rotate them, not rotating already (nor left
    for a person after a failed run), and not
    colliding with a linked secret (rotating, started within the gap, or due in this batch
    ahead of it: earlier due date, then lower id). Returns a QuerySet ordered by due date.

    Set-based: the plain secrets (no override) are one condition on the table; only linked
    secrets and secrets with an override are looked at one by one, and only by id."""
    now = now or timezone.now()
    gap = link_gap()
    plan = Plan()
    open_policies = [
        pk for pk, eff in plan._by_policy.items() if eff and (eff.window is None or eff.window.contains(now))
    ]
    plain = Q(missing_since__isnull=True, next_due__lte=now, rotation_policy_id__in=open_policies)
    if plan.overrides:
        plain &= ~ids_q(plan.overrides)
    plain &= _startable()
    # Candidates that may have to wait for a linked secret, in the order they claim their slot.
    candidates = []
    if plan.partners:
        candidates = list(Secret.objects.filter(plain & _has_link()).order_by().values_list("next_due", "pk"))
    chosen_overrides, opened = [], {}
    fields = ("pk", "rotation_policy_id", "next_due", "last_rotated", "created_at", "expires_at")
    with_override = Secret.objects.filter(ids_q(plan.overrides), _startable(), missing_since__isnull=True)
    for row in with_override.values(*fields) if plan.overrides else ():
        secret = SimpleNamespace(**row)  # the dates the due rule reads, without model instances
        effective = plan.effective(secret)
        if effective is None or effective.exempt_at(now):
            continue
        due = plan.due(secret, effective)
        if due is not None and due <= now and _open(effective.window, now, opened):
            if plan.partners.get(secret.pk):
                candidates.append((due, secret.pk))
            else:
                chosen_overrides.append(secret.pk)
    candidates.sort()
    busy = _busy(_has_link(), now, gap) if candidates else set()
    chosen, waiting = set(), set()
    for _due, pk in candidates:
        if any(p in busy or p in chosen for p in plan.partners.get(pk, ())):
            waiting.add(pk)  # staggered: it waits for the linked secret
        else:
            chosen.add(pk)
    chosen_overrides += [pk for pk in chosen if pk in plan.overrides]
    due_now = plain & ~ids_q(waiting) if waiting else plain
    if chosen_overrides:
        due_now |= ids_q(chosen_overrides)
    return Secret.objects.filter(due_now).order_by("next_due", "id")
