"""Audit actions of the usage app (registered with the ledger at start-up)."""

from secrets_admin.audit.actions import register

ROLLUP_PRUNED = register(
    "usage.rollup.pruned",
    "Beat deleted hourly access counts older than the retention (USAGE_RETENTION_DAYS)",
    sentence="{actor} deleted {rows} hourly access rows from before {before}",
)
