"""Django admin: a read-only window on the inventory (changes go through services, which audit)."""

from django.contrib import admin

from secrets_admin.inventory import filters
from secrets_admin.inventory.models import RotationPolicy, Secret, SecretVersion, SyncRun


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class TagFilter(admin.SimpleListFilter):
    """?tag=key or ?tag=key=value, answered like the inventory page's tag filter."""

    title, parameter_name = "tag", "tag"

    def lookups(self, request, model_admin):
        current = self.value()
        return [(current, current)] if current else [("tier=gold", "tier=gold")]

    def queryset(self, request, queryset):
        return filters.tagged(queryset, self.value() or "")


@admin.register(Secret)
class SecretAdmin(ReadOnly):
    # Configured like the inventory page (bench/inventory.py compares the two): its page size,
    # no full-table count, its search columns and the same tag filter.
    list_per_page = 25
    show_full_result_count = False
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
    list_filter = ("backend", "kind", "environment", "status", TagFilter)
    search_fields = filters.SEARCHED  # shows the search box; the search itself is the page's:

    def get_search_results(self, request, queryset, search_term):
        """The inventory page's search (one trigram index, the whole text as one phrase), not
        Django's per-word OR over four columns: both pages do the same work (no duplicates)."""
        return filters.search(queryset, search_term), False


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
