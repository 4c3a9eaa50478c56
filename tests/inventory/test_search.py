"""Search (path, name, owner, purpose) and the tag filter, on our page and on the admin
changelist configured like it; on PostgreSQL, the trigram and tag indexes exist."""

import pytest
from django.contrib import admin
from django.db import connection
from django.urls import reverse

from secrets_admin.inventory.filters import search, tagged
from secrets_admin.inventory.models import Secret
from secrets_admin.inventory.views import PAGE_SIZE
from tests.markers import requires_postgres

pytestmark = pytest.mark.django_db


@pytest.fixture
def estate():
    rows = [
        ("secret/pay/stripe", "payments", "charges cards for the shop", {"tier": "gold"}),
        ("secret/ci/token", "platform", "deploys the Shop front end", {"tier": "silver"}),
        ("secret/hr/ldap", "people", "directory bind", {"tier": "gold", "pci": "no"}),
    ]
    for path, owner, purpose, tags in rows:
        Secret.objects.create(
            backend="vault",
            path=path,
            name=path.rsplit("/", 1)[1],
            owner_team=owner,
            purpose=purpose,
            tags=tags,
        )


def paths(queryset):
    return sorted(queryset.values_list("path", flat=True))


def test_search_finds_path_owner_and_purpose_in_any_case(estate):
    assert paths(search(Secret.objects.all(), "STRIPE")) == ["secret/pay/stripe"]
    assert paths(search(Secret.objects.all(), "platform")) == ["secret/ci/token"]
    assert paths(search(Secret.objects.all(), "shop")) == ["secret/ci/token", "secret/pay/stripe"]
    assert paths(search(Secret.objects.all(), "  ")) == paths(Secret.objects.all())


def test_the_tag_filter_matches_key_or_key_and_value(estate):
    assert paths(tagged(Secret.objects.all(), "tier=gold")) == ["secret/hr/ldap", "secret/pay/stripe"]
    assert paths(tagged(Secret.objects.all(), "pci")) == ["secret/hr/ldap"]
    assert paths(tagged(Secret.objects.all(), "tier=bronze")) == []


def test_the_page_and_the_admin_answer_the_same(estate, person, client_for, totp_for):
    from django.contrib.auth.models import User

    reader = client_for(person("alice", "developers"))
    boss = User.objects.create_superuser("root", "root@example.com", "a-long-test-password")
    totp_for(boss)  # the admin is for superusers with a verified second factor
    page = reader.get(reverse("inventory:list"), {"q": "shop", "tag": "tier=gold"}).content.decode()
    assert "secret/pay/stripe" in page and "secret/ci/token" not in page

    model_admin = admin.site._registry[Secret]
    assert model_admin.list_per_page == PAGE_SIZE and model_admin.show_full_result_count is False
    assert set(model_admin.search_fields) == {"path", "name", "owner_team", "purpose"}
    response = client_for(boss).get(
        reverse("admin:inventory_secret_changelist"), {"q": "shop", "tag": "tier=gold"}
    )
    assert response.status_code == 200
    assert paths(response.context["cl"].queryset) == ["secret/pay/stripe"]


def test_search_finds_by_name_and_not_across_two_columns(estate):
    Secret.objects.filter(path="secret/hr/ldap").update(name="bind-account")
    assert paths(search(Secret.objects.all(), "BIND-ACC")) == ["secret/hr/ldap"]
    # search_text joins the columns with newlines; a phrase spanning two of them is no match
    assert paths(search(Secret.objects.all(), "ldap\nbind")) == []
    assert paths(search(Secret.objects.all(), "stripe\nstripe")) == []


def test_the_admin_searches_as_the_page_does(estate, client_for, totp_for):
    """A phrase is one phrase on both pages (Django's admin would match "for" in
    the owner "platform" and "the shop" in another secret's purpose)."""
    from django.contrib.auth.models import User

    boss = User.objects.create_superuser("root", "root@example.com", "a-long-test-password")
    totp_for(boss)
    admin_page = client_for(boss).get(reverse("admin:inventory_secret_changelist"), {"q": "for the shop"})
    assert paths(admin_page.context["cl"].queryset) == ["secret/pay/stripe"]
    assert paths(search(Secret.objects.all(), "for the shop")) == ["secret/pay/stripe"]


@requires_postgres
def test_search_and_tag_indexes_exist_on_postgresql():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'inventory_secret'")
        indexes = dict(cursor.fetchall())
    # one trigram index over the four searched columns, none per column (every status rewrite
    # paid an entry in each)
    assert (
        "gin_trgm_ops" in indexes["secret_search_trgm"]
        and "upper(search_text)" in indexes["secret_search_trgm"]
    )
    assert not [name for name in indexes if name.endswith("_trgm") and name != "secret_search_trgm"]
    assert "USING gin (tags)" in indexes["secret_tags_gin"]
    with connection.cursor() as cursor:
        # as on a large table: no reading it all, in either order (a full walk of a btree index
        # with a filter is how the planner avoided the trigram index on an empty test table)
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        sql, params = search(Secret.objects.all(), "strip").query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "secret_search_trgm" in plan, plan  # a term of 6+ characters: test_search_terms.py
