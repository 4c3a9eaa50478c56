"""Filters of the audit page and its exports (django-filter). Each maps to an index: actor name,
action (exact, or a prefix such as `auth.` using the varchar_pattern_ops index), target, request
id, and a UTC date range on created_at."""

from datetime import UTC, datetime, time, timedelta

import django_filters
from django import forms

from secrets_admin.audit.models import AuditEntry


def _text(**attrs):
    return forms.TextInput(attrs={"class": "form-control form-control-sm", **attrs})


def _date(**attrs):
    return forms.DateInput(attrs={"class": "form-control form-control-sm", "type": "date", **attrs})


def _midnight(day) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


class AuditEntryFilter(django_filters.FilterSet):
    actor = django_filters.CharFilter(
        field_name="actor_name", label="Actor", max_length=150, widget=_text(placeholder="user name")
    )
    action = django_filters.CharFilter(
        method="filter_action",
        label="Action",
        max_length=100,
        widget=_text(placeholder="auth.login.failed or auth.", list="audit-actions"),
    )
    target_type = django_filters.CharFilter(
        label="Target type", max_length=100, widget=_text(placeholder="inventory.secret")
    )
    target_id = django_filters.CharFilter(label="Target id", max_length=64, widget=_text())
    request_id = django_filters.CharFilter(label="Request id", max_length=64, widget=_text())
    since = django_filters.DateFilter(method="filter_since", label="From (UTC)", widget=_date())
    until = django_filters.DateFilter(method="filter_until", label="To (UTC, inclusive)", widget=_date())

    class Meta:
        model = AuditEntry
        fields = ["actor", "action", "target_type", "target_id", "request_id", "since", "until"]

    def filter_action(self, queryset, name, value):
        # A trailing "." or "*" asks for a namespace: "breakglass." matches breakglass.approved etc.
        if value.endswith(("*", ".")):
            return queryset.filter(action__startswith=value.rstrip("*"))
        return queryset.filter(action=value)

    def filter_since(self, queryset, name, value):
        return queryset.filter(created_at__gte=_midnight(value))

    def filter_until(self, queryset, name, value):
        return queryset.filter(created_at__lt=_midnight(value + timedelta(days=1)))

    def used(self) -> dict:
        """The non-empty filters as JSON-safe strings (what an export records it was given)."""
        if not self.is_bound:
            return {}
        return {
            name: value.isoformat() if hasattr(value, "isoformat") else str(value)
            for name, value in self.form.cleaned_data.items()
            if value not in (None, "")
        }
