"""What the estate costs per month by storage tier, and what moving stale secrets would save.

Tiers: hot = AWS Secrets Manager (per secret), warm = OpenBao/Vault (per secret), cold = an
archive priced per GB, with each archived secret taking COST_ARCHIVE_KB_PER_SECRET. Sealed
Secrets live in Git and Kubernetes and are not priced. Prices come from settings (environment).
Two counts (secrets per backend, stale secrets per backend), whatever the estate's size.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import Count

from secrets_admin.inventory.models import Secret
from secrets_admin.usage.services import anomalies

CENT = Decimal("0.01")
KB_PER_GB = Decimal(1024 * 1024)
TIER_OF_KIND = {"aws": "hot", "vault": "warm"}


@dataclass(frozen=True)
class Tier:
    name: str
    label: str
    price: Decimal
    unit: str
    secrets: int
    stale: int
    monthly: Decimal


@dataclass(frozen=True)
class Estimate:
    tiers: list[Tier]
    total: Decimal
    stale_to_warm: Decimal  # moving stale hot secrets to the warm tier saves this much a month
    stale_to_cold: Decimal  # moving every stale secret to the archive saves this much a month
    stale: int


def money(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def cold_per_secret() -> Decimal:
    return settings.COST_COLD_PER_GB_MONTH * settings.COST_ARCHIVE_KB_PER_SECRET / KB_PER_GB


def tally(*, now=None) -> tuple[dict, dict]:
    """({tier: secrets}, {tier: stale secrets}) from the inventory (two grouped counts)."""
    kinds = {name: conf.get("kind") for name, conf in settings.SECRET_BACKENDS.items()}
    counts = {"hot": 0, "warm": 0}
    live = Secret.objects.exclude(status="missing").values("backend").annotate(n=Count("id"))
    for row in live:  # one row per backend
        tier = TIER_OF_KIND.get(kinds.get(row["backend"]))
        if tier:
            counts[tier] += row["n"]
    stale = {"hot": 0, "warm": 0}
    for backend, n in anomalies.stale_by_backend(now=now).items():
        tier = TIER_OF_KIND.get(kinds.get(backend))
        if tier:
            stale[tier] += n
    return counts, stale


def estimate(*, now=None, counts: dict | None = None, stale: dict | None = None) -> Estimate:
    """The estimate at today's prices, from `counts` and `stale` (a summary's) or counted now."""
    if counts is None or stale is None:
        counts, stale = tally(now=now)
    hot, warm = settings.COST_HOT_PER_SECRET_MONTH, settings.COST_WARM_PER_SECRET_MONTH
    cold = cold_per_secret()
    tiers = [
        Tier(
            "hot", "Hot: AWS Secrets Manager", hot, "secret", counts["hot"], stale["hot"], hot * counts["hot"]
        ),
        Tier(
            "warm",
            "Warm: OpenBao/Vault",
            warm,
            "secret",
            counts["warm"],
            stale["warm"],
            warm * counts["warm"],
        ),
        Tier("cold", "Cold: archive", settings.COST_COLD_PER_GB_MONTH, "GB", 0, 0, Decimal(0)),
    ]
    stale_all = stale["hot"] + stale["warm"]
    return Estimate(
        tiers=[Tier(t.name, t.label, t.price, t.unit, t.secrets, t.stale, money(t.monthly)) for t in tiers],
        total=money(hot * counts["hot"] + warm * counts["warm"]),
        stale_to_warm=money((hot - warm) * stale["hot"]),
        stale_to_cold=money(hot * stale["hot"] + warm * stale["warm"] - cold * stale_all),
        stale=stale_all,
    )
