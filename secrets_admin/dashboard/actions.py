"""Audit action names the dashboard writes (registered with the ledger at start-up)."""

from secrets_admin.audit.actions import register

DEMO_SEEDED = register(
    "dashboard.demo.seeded",
    "seed_demo wrote a made-up past rotation run or access grant so the demo dashboard has history "
    "(demo data only; never in production)",
    sentence="{actor} seeded demo history: {target}",
)
