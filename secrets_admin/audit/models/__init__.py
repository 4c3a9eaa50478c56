from secrets_admin.audit.models.entry import AppendOnlyError, AuditEntry, AuditEntryQuerySet
from secrets_admin.audit.models.intent import Intent
from secrets_admin.audit.models.verification import AuditAnchor, AuditCheckpoint, BreakAcknowledgement

__all__ = [
    "AppendOnlyError",
    "AuditAnchor",
    "AuditCheckpoint",
    "AuditEntry",
    "AuditEntryQuerySet",
    "BreakAcknowledgement",
    "Intent",
]
