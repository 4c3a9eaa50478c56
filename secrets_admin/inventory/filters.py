"""Server-side filters for the inventory list (django-filter). Every filter maps to an index or
a bounded scan; none needs a query of its own to build choices (backends come from settings)."""

import django_filters
from django import forms
from django.conf import settings
from django.db import connection, connections
from django.db.models import BooleanField, F, Func, Q, Value
from django.db.models.fields.json import KeyTransform

from secrets_admin.inventory.models import Secret
from secrets_admin.inventory.models.choices import Environment, Kind, Status

SORTS = {
    "path": "Path",
    "name": "Name",
    "backend": "Backend",
    "kind": "Kind",
    "environment": "Environment",
    "owner_team": "Owner",
    "status": "Status",
    "next_due": "Next due",
    "last_rotated": "Last rotated",
}


def _backend_choices():
    return [(name, name) for name in settings.SECRET_BACKENDS]


def _select(**attrs):
    return forms.Select(attrs={"class": "form-select form-select-sm", **attrs})


def _text(**attrs):
    return forms.TextInput(attrs={"class": "form-control form-control-sm", **attrs})


class SecretFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="search",
        label="Search",
        max_length=200,
        widget=_text(placeholder="path, name, owner or purpose", type="search"),
    )
    backend = django_filters.ChoiceFilter(choices=_backend_choices, empty_label="any", widget=_select())
    kind = django_filters.ChoiceFilter(choices=Kind.choices, empty_label="any", widget=_select())
    environment = django_filters.ChoiceFilter(
        choices=Environment.choices, empty_label="any", widget=_select()
    )
    owner_team = django_filters.CharFilter(
        label="Owner team", max_length=128, widget=_text(placeholder="exact")
    )
    status = django_filters.ChoiceFilter(choices=Status.choices, empty_label="any", widget=_select())
    tag = django_filters.CharFilter(
        method="tagged", label="Tag", max_length=200, widget=_text(placeholder="key or key=value")
    )

    class Meta:
        model = Secret
        fields = ["q", "backend", "kind", "environment", "owner_team", "status", "tag"]

    def search(self, queryset, name, value):
        return search(queryset, value)

    def tagged(self, queryset, name, value):
        return tagged(queryset, value)


# Shared with the admin changelist (inventory.admin), so the benchmark compares like with like.
SEARCHED = ("path", "name", "owner_team", "purpose")


GRAM = 6  # the window length of inventory_grams (migration 0007)


class _HasGrams(Func):
    """The row's search_text holds every window of the term (the secret_search_grams index's
    expression on the left; the same function on the right, so both sides fold case alike)."""

    output_field = BooleanField()

    def as_sql(self, compiler, connection, **extra):
        column, column_params = compiler.compile(self.source_expressions[0])
        term, term_params = compiler.compile(self.source_expressions[1])
        sql = f"inventory_grams(UPPER({column})) @> inventory_grams(UPPER({term}))"
        return sql, [*column_params, *term_params]


def search(queryset, value: str):
    """Secrets whose path, name, owner team or purpose contains `value` (any case).

    On PostgreSQL an index finds the candidates in one index scan, then the per-column test
    keeps the meaning exact (a match across two columns' boundary is no match; LIKE's `%`, `_`
    and `\\` in the term are literal). A term of GRAM+ characters without a newline reads the
    6-character windows index (migration 0007): its rarest window pins the few rows that hold
    it, at any table size. A shorter term reads the trigram index on UPPER(search_text) (0006),
    whose shared trigrams' posting lists grow with the table. The admin changelist searches
    through this same function, so the benchmark compares the same work."""
    value = value.strip()
    if not value:
        return queryset
    where = Q()
    for column in SEARCHED:
        where |= Q(**{f"{column}__icontains": value})
    if connections[queryset.db].vendor == "postgresql" and len(value) >= GRAM and "\n" not in value:
        return queryset.filter(_HasGrams(F("search_text"), Value(value)), where)
    return queryset.filter(Q(search_text__icontains=value) & where)


def tagged(queryset, value: str):
    """`key` (the tag is set) or `key=value`. On PostgreSQL both are jsonb containment tests
    (`?`, `@>`) that the GIN index on tags answers; SQLite compares the key's value."""
    key, sep, wanted = value.strip().partition("=")
    key = key.strip()
    if not key:
        return queryset
    if not sep:
        return queryset.filter(tags__has_key=key)
    if connection.vendor == "postgresql":
        return queryset.filter(tags__contains={key: wanted.strip()})
    # An explicit transform: the key is a bound parameter, never parsed as a lookup path.
    return queryset.alias(tag_value=KeyTransform(key, "tags")).filter(tag_value=wanted.strip())
