"""The audit ledger: its pages and exports, acknowledging a break, its read-only admin pages."""

from tests.matrix.roles import every

# audit: security-team, cto and managers read the ledger and export it
AUDIT_READERS = every(403, anonymous=302, no_device=302, security_team=200, cto=200, managers=200)


def _audit_entry():
    from django.db import transaction

    from secrets_admin.audit import actions, sequencer, services

    with transaction.atomic():
        entry = services.record(actions.EXPORTED, actor="matrix", data={"format": "csv", "filter": {}})
    sequencer.link()
    entry.refresh_from_db()
    return f"/audit/{entry.sequence}/"


def _audit_break():
    """A recorded break of the chain, for the acknowledgement form's URL."""
    from secrets_admin.audit.models import AuditCheckpoint

    checkpoint = AuditCheckpoint.objects.create(
        full=True, ok=False, sequence=0, hash="0" * 64, checked_from=1, entries=0, duration_ms=1,
        broken_at=1, problem="entry #1 was altered", kind="altered", fingerprint="altered:1:matrix",
    )  # fmt: skip
    return f"/audit/breaks/{checkpoint.pk}/acknowledge/"


URLS = [
    ("/audit/", AUDIT_READERS),
    ("/audit/", every(405, no_device=302), "post"),  # read-only page
    (_audit_entry, AUDIT_READERS),
    ("/audit/export.csv", AUDIT_READERS),
    ("/audit/export.json", AUDIT_READERS),
    # acknowledging a break: security-team only, POST with a one-time code (empty form: 400)
    (_audit_break, every(405, no_device=302)),
    (_audit_break, every(403, anonymous=302, no_device=302, security_team=400), "post"),
    # read-only admin pages of the ledger's records (superusers with a verified device only)
    ("/admin/audit/auditanchor/", every(403, anonymous=302, no_device=302)),
    ("/admin/audit/breakacknowledgement/", every(403, anonymous=302, no_device=302)),
    ("/admin/audit/intent/", every(403, anonymous=302, no_device=302)),
]
