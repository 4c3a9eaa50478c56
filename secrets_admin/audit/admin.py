"""Read-only admin views of the ledger (the audit page is the everyday way in)."""

from django.contrib import admin

from secrets_admin.audit.models import AuditAnchor, AuditCheckpoint, AuditEntry, BreakAcknowledgement, Intent


class ReadOnlyAdmin(admin.ModelAdmin):
    actions = None

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ("id", "sequence", "created_at", "actor_name", "action", "target_type", "target_repr")
    list_filter = ("action",)
    ordering = ("-id",)
    show_full_result_count = False  # no COUNT(*) over the whole ledger


@admin.register(AuditCheckpoint)
class AuditCheckpointAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "full", "ok", "sequence", "entries", "duration_ms", "broken_at", "kind")


@admin.register(AuditAnchor)
class AuditAnchorAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "ok", "reason", "sequence", "store", "version", "error")


@admin.register(BreakAcknowledgement)
class BreakAcknowledgementAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "broken_at", "actor_name", "fingerprint")


@admin.register(Intent)
class IntentAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "kind", "key", "state", "actor_name", "attempts", "finished_at")
    list_filter = ("state", "kind")
