"""Audit actions of the compliance app (registered with the ledger at start-up)."""

from secrets_admin.audit.actions import register

EVIDENCE_EXPORTED = register(
    "compliance.evidence.exported",
    "Someone exported compliance evidence for a framework and a date range",
    sentence="{actor} exported {framework} evidence for {start} to {end}",
)
EVIDENCE_COMPLETED = register(
    "compliance.evidence.completed",
    "An evidence export was written to the end (the sha256 of its manifest is in the data)",
    sentence="{actor} finished the {framework} evidence export (manifest {manifest_sha256})",
)
EVIDENCE_VERIFIED = register(
    "compliance.evidence.verified",
    "Someone verified an evidence export with manage.py verify_evidence (the outcome is in the data)",
    sentence="{actor} verified an evidence export: {outcome}",
)
DIGEST_RECORDED = register(
    "compliance.digest.recorded",
    "The weekly digest's numbers were stored as this week's snapshot",
    sentence="{actor} stored the weekly snapshot for the week of {week}",
)
DIGEST_SENT = register(
    "compliance.digest.sent",
    "The weekly digest was mailed to the managers",
    sentence="{actor} sent the weekly digest for the week of {week} to {recipients} manager(s)",
)
