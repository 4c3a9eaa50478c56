"""Filters of the audit page and its exports (django-filter). Each maps to an index: actor name,
action (exact, or a prefix such as `auth.` using the varchar_pattern_ops index), target, request
id, and a UTC date range on created_at. A person matches the entries they made and the entries
about them (a failed login naming their account, a change to their groups).

Actor, action and target type are dropdowns of the values present in the ledger, in words. The
values are read with a loose index scan on PostgreSQL (one index probe per distinct value), so
the page costs the same on a million entries.
"""

from datetime import UTC, datetime, time, timedelta

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Q

from secrets_admin.audit import wording
from secrets_admin.audit.models import AuditEntry

PRESENT_LIMIT = 500  # more distinct values than this and the dropdown shows the first ones


def _text(**attrs):
    return forms.TextInput(attrs={"class": "form-control form-control-sm", **attrs})


def _select():
    return forms.Select(attrs={"class": "form-select form-select-sm"})


def _date(**attrs):
    return forms.DateInput(attrs={"class": "form-control form-control-sm", "type": "date", **attrs})


def _midnight(day) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


_LOOSE_SCAN = """
WITH RECURSIVE present(value) AS (
    (SELECT {col} FROM audit_auditentry WHERE {col} > '' ORDER BY {col} LIMIT 1)
    UNION ALL
    SELECT (SELECT {col} FROM audit_auditentry WHERE {col} > present.value ORDER BY {col} LIMIT 1)
    FROM present WHERE present.value IS NOT NULL
)
SELECT value FROM present WHERE value IS NOT NULL LIMIT %s
"""


def present_values(column: str) -> list[str]:
    """The distinct non-empty values of an indexed column, sorted."""
    if column not in ("actor_name", "action", "target_type"):
        raise ValueError(f"no dropdown for {column!r}")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_LOOSE_SCAN.format(col=column), [PRESENT_LIMIT])  # noqa: S608 (column whitelisted)
            return [row[0] for row in cursor.fetchall()]
    values = AuditEntry.objects.exclude(**{column: ""}).order_by(column).values_list(column, flat=True)
    return list(values.distinct()[:PRESENT_LIMIT])


def _actor_choices():
    names = present_values("actor_name")
    people = get_user_model().objects.filter(username__in=names).order_by()
    full = {user.username: user.get_full_name() for user in people}
    labels = []
    for name in names:
        words = wording.actor_words(name)
        label = (
            f"{name} — {full[name]}" if full.get(name) else (words if words == name else f"{words} ({name})")
        )
        labels.append((name, label))
    return [("", "Anyone"), *labels]


def _action_choices():
    names = present_values("action")
    namespaces = sorted({name.split(".", 1)[0] + "." for name in names})
    return [
        ("", "Any action"),
        *((space, f"Everything in {space[:-1]}") for space in namespaces),
        *((name, f"{wording.action_words(name)} ({name})") for name in names),
    ]


def _target_type_choices():
    labels = [
        (label, f"{wording.target_type_words(label)} ({label})") for label in present_values("target_type")
    ]
    return [("", "Anything"), *sorted(labels, key=lambda choice: choice[1].lower())]


def _person_choices():
    people = get_user_model().objects.order_by("username").only("username", "first_name", "last_name")
    return [
        ("", "Anyone"),
        *((p.username, f"{p.username} — {p.get_full_name()}".rstrip(" —")) for p in people),
    ]


class AuditEntryFilter(django_filters.FilterSet):
    person = django_filters.CharFilter(
        method="filter_person",
        label="Person (did it, or it was about them)",
        max_length=150,
        widget=_select(),
    )
    actor = django_filters.CharFilter(
        field_name="actor_name", label="Actor", max_length=150, widget=_select()
    )
    action = django_filters.CharFilter(
        method="filter_action", label="Action", max_length=100, widget=_select()
    )
    target_type = django_filters.CharFilter(label="Target type", max_length=100, widget=_select())
    target_id = django_filters.CharFilter(label="Target id", max_length=64, widget=_text())
    request_id = django_filters.CharFilter(label="Request id", max_length=64, widget=_text())
    login_hash = django_filters.CharFilter(
        method="filter_login_hash", label="Login name hash", max_length=64, widget=_text()
    )
    since = django_filters.DateFilter(method="filter_since", label="From (UTC)", widget=_date())
    until = django_filters.DateFilter(method="filter_until", label="To (UTC, inclusive)", widget=_date())

    class Meta:
        model = AuditEntry
        fields = [
            "person",
            "actor",
            "action",
            "target_type",
            "target_id",
            "request_id",
            "login_hash",
            "since",
            "until",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        fields = self.form.fields
        choices = {
            "person": _person_choices,
            "actor": _actor_choices,
            "action": _action_choices,
            "target_type": _target_type_choices,
        }
        for name, make in choices.items():
            options = make()
            current = self.data.get(name) if self.is_bound else None
            if current and current not in {value for value, _ in options}:
                options.append((current, current))  # a value from a link, still shown as chosen
            fields[name].widget.choices = options

    def filter_person(self, queryset, name, value):
        user = get_user_model().objects.filter(username=value).first()
        about = Q(actor_name=value)
        if user is not None:
            about |= Q(actor_id=user.pk) | Q(target_type="auth.user", target_id=str(user.pk))
        return queryset.filter(about)

    def filter_action(self, queryset, name, value):
        # A trailing "." or "*" asks for a namespace: "breakglass." matches breakglass.approved etc.
        if value.endswith(("*", ".")):
            return queryset.filter(action__startswith=value.rstrip("*"))
        return queryset.filter(action=value)

    def filter_login_hash(self, queryset, name, value):
        return queryset.filter(data__login_hash=value)

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
