"""Django admin: a read-only window on the inventory (changes go through services, which audit)."""

from django.contrib import admin

from secrets_admin.inventory.models import RotationPolicy, Secret, SecretVersion, SyncRun


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Secret)
class SecretAdmin(ReadOnly):
    list_display = (
        "path",
        "backend",
        "kind",
        "environment",
        "owner_team",
        "status",
        "next_due",
        "last_rotated",
    )
    list_filter = ("backend", "kind", "environment", "status")
    search_fields = ("path", "name")


@admin.register(SecretVersion)
class SecretVersionAdmin(ReadOnly):
    list_display = ("secret", "version_id", "state", "created_at", "created_by")
    list_select_related = ("secret",)
    raw_id_fields = ("secret",)


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnly):
    list_display = (
        "backend",
        "state",
        "started_at",
        "finished_at",
        "seen",
        "created",
        "changed",
        "vanished",
        "error_count",
    )
    list_filter = ("backend", "state")


@admin.register(RotationPolicy)
class RotationPolicyAdmin(ReadOnly):
    list_display = ("name", "kind", "interval_days", "lead_days", "strategy", "is_default")
