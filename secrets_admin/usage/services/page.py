"""The /usage/ page's figures as stored with the summary (beat `usage.summarise`, every 5 minutes),
so the page does not join 100k secrets with the rollup and scan a week of it on every load:

- always from the summary: spikes, candidates to retire (and their count), AWS last accessed;
- the access tables (total, per hour, per secret, per identity) from the summary when the page is
  asked for its default view (the last 7 days of reads, no secret or identity), and computed live
  over the rollup's indexes only for a filtered view (a secret or an identity narrows them to its
  own index range; a longer date range scans that range).

Stored as plain JSON (ids, counts, ISO times); `read()` turns them back into what the template
formats, fetching the shown secrets by primary key (one query each list)."""

from datetime import datetime

from secrets_admin.inventory.models import Secret
from secrets_admin.usage.services import anomalies, patterns

SPIKES_SHOWN = 50
STALE_SHOWN = 200
FILTERS = ("from", "to", "operation", "secret", "identity")


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def _rows(rows: list[dict]) -> list[dict]:
    return [{**row, "last": _iso(row.get("last"))} for row in rows]


def compute(now) -> dict:
    """Everything the page shows that does not depend on its filters, and its default view."""
    filters = patterns.parse({}, now=now)
    unit, periods = patterns.per_period(filters)
    return {
        "spikes": [
            {**spike.__dict__, "hour": spike.hour.isoformat()}
            for spike in anomalies.spikes(now=now, limit=SPIKES_SHOWN)
        ],
        "stale": [[secret.pk, _iso(last)] for secret, last in anomalies.stale(now=now, limit=STALE_SHOWN)],
        "aws": [secret.pk for secret in patterns.aws_last_accessed()],
        "default": {
            "first_day": filters.range.first_day.isoformat(),
            "total": patterns.total(filters),
            "unit": unit,
            "periods": [[start.isoformat(), n] for start, n in periods],
            "secrets": _rows(patterns.per_secret(filters)),
            "identities": _rows(patterns.per_identity(filters)),
        },
    }


def is_default(params) -> bool:
    return not any((params.get(name) or "").strip() for name in FILTERS)


def read(stored: dict, filters, *, default: bool) -> dict | None:
    """The page's context from the stored figures; None when they are missing (a summary stored
    before this page kept its figures there). The access tables come from the store only for the
    default view of the same days; otherwise they are computed live for `filters`."""
    if not stored:
        return None
    kept = stored["default"]
    if default and kept["first_day"] == filters.range.first_day.isoformat():
        access = {
            "total": kept["total"],
            "unit": kept["unit"],
            "periods": [(datetime.fromisoformat(start), n) for start, n in kept["periods"]],
            "secrets": kept["secrets"],
            "identities": kept["identities"],
        }
    else:
        unit, periods = patterns.per_period(filters)
        access = {
            "total": patterns.total(filters),
            "unit": unit,
            "periods": periods,
            "secrets": patterns.per_secret(filters),
            "identities": patterns.per_identity(filters),
        }
    shown = Secret.objects.in_bulk([pk for pk, _ in stored["stale"]] + stored["aws"])
    return {
        **access,
        "spikes": [{**spike, "hour": datetime.fromisoformat(spike["hour"])} for spike in stored["spikes"]],
        "stale": [
            (shown[pk], datetime.fromisoformat(last) if last else None)
            for pk, last in stored["stale"]
            if pk in shown
        ],
        "aws_reads": [shown[pk] for pk in stored["aws"] if pk in shown],
    }
