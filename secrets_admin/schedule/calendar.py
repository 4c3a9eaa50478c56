"""The rotation calendar: what the schedule will start on each of the next 30 days (from due
dates, overrides, exemptions and windows), with linked secrets whose slots collide flagged
before it happens, and when the stagger will let the later one start."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from secrets_admin.inventory.models import Secret
from secrets_admin.schedule.planner import EffectivePolicy, Plan, link_gap

DAYS = 30
ROWS_PER_DAY = 200  # a day with more shows the first ones and how many more


@dataclass
class Entry:
    secret: Secret
    due: datetime
    slot: datetime
    effective: EffectivePolicy
    collides_with: list = field(default_factory=list)  # [(other secret, its slot)]
    starts_after: datetime | None = None  # staggered: no earlier than this
    overdue: bool = False  # due before the calendar starts


@dataclass
class Day:
    day: date
    entries: list
    collisions: int = 0

    @property
    def shown(self):
        return self.entries[:ROWS_PER_DAY]

    @property
    def more(self) -> int:
        return max(0, len(self.entries) - ROWS_PER_DAY)


@dataclass
class Calendar:
    start: datetime
    end: datetime
    days: list
    gap: timedelta
    planned: int
    collisions: int


def plan_entries(now: datetime, end: datetime, plan: Plan) -> list[Entry]:
    """Every rotation the schedule would start between `now` and `end`, ordered by slot."""
    fields = (
        "id", "backend", "path", "name", "kind", "rotation_policy_id", "next_due", "last_rotated",
        "created_at", "expires_at",
    )  # fmt: skip
    wanted = Q(next_due__lte=end) | Q(pk__in=list(plan.overrides))
    secrets = Secret.objects.filter(wanted, missing_since__isnull=True).only(*fields)
    entries = []
    for secret in secrets.iterator(chunk_size=2000):
        effective = plan.effective(secret)
        if effective is None:
            continue
        due = plan.due(secret, effective)
        if due is None:
            continue
        slot = plan.slot(secret, now)
        if slot is not None and slot < end:
            entries.append(Entry(secret, due, slot, effective, overdue=due <= now))
    entries.sort(key=lambda e: (e.slot, e.secret.pk))
    return entries


def flag_collisions(entries: list[Entry], plan: Plan, gap: timedelta) -> int:
    """Mark linked entries whose slots are less than `gap` apart; the later one (by slot, then
    id) is staggered to its first slot `gap` after the earlier one. Returns the pairs flagged."""
    by_id = {e.secret.pk: e for e in entries}
    pairs = 0
    for entry in entries:  # in slot order: the earlier one of a pair is met first
        for partner_id in sorted(plan.partners.get(entry.secret.pk, ())):
            other = by_id.get(partner_id)
            if other is None or (other.slot, partner_id) < (entry.slot, entry.secret.pk):
                continue
            if other.slot - entry.slot < gap:
                pairs += 1
                entry.collides_with.append((other.secret, other.slot))
                other.collides_with.append((entry.secret, entry.slot))
                later = plan.slot(other.secret, entry.slot + gap)
                other.starts_after = max(other.starts_after or later, later)
    return pairs


def build(now: datetime | None = None, *, days: int = DAYS, only_collisions: bool = False) -> Calendar:
    now = now or timezone.now()
    end = now + timedelta(days=days)
    gap = link_gap()
    plan = Plan()
    entries = plan_entries(now, end, plan)
    pairs = flag_collisions(entries, plan, gap)
    by_day: dict[date, list] = {}
    for entry in entries:
        if only_collisions and not entry.collides_with:
            continue
        by_day.setdefault(timezone.localtime(entry.slot).date(), []).append(entry)
    first = timezone.localtime(now).date()
    calendar_days = []
    for offset in range(days + 1):
        day = first + timedelta(days=offset)
        listed = by_day.get(day, [])
        calendar_days.append(Day(day, listed, sum(1 for e in listed if e.collides_with)))
    return Calendar(now, end, calendar_days, gap, len(entries), pairs)
