"""Inventory pages: who may see what, filters, sort, keyset pagination, constant query counts,
bad input answered with 200/4xx (never 500)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from secrets_admin.inventory import paging
from secrets_admin.inventory.models import Secret, SecretVersion, SyncRun

pytestmark = pytest.mark.django_db
LIST = reverse("inventory:list")


def make_secrets(n, start=0, **overrides):
    now = timezone.now()
    kinds = ["api_key", "password", "database", "certificate", "generic"]
    rows = [
        Secret(
            backend="vault" if i % 2 else "aws",
            path=f"secret/team-{i % 7}/app-{i:05d}",
            name=f"app-{i:05d}",
            kind=kinds[i % 5],
            environment=["development", "staging", "production"][i % 3],
            owner_team=f"team-{i % 7}",
            status=["ok", "due_soon", "overdue", "ok"][i % 4],
            next_due=None if i % 6 == 0 else now + timedelta(days=(i * 37) % 90 - 10),
            tags={"tier": "gold" if i % 3 == 0 else "silver"},
            **overrides,
        )
        for i in range(start, start + n)
    ]
    made = Secret.objects.bulk_create(rows)
    SecretVersion.objects.bulk_create(
        SecretVersion(secret=s, version_id=str(v), state="current" if v == 3 else "previous")
        for s in made
        for v in (1, 2, 3)
    )
    return made


def rows_of(response):
    return [s.path for s in response.context["page"].rows]


def walk(client, url, direction="next_url"):
    """Follow next (or prev) links from `url`; returns every path seen and the page count."""
    seen, pages = [], 0
    while url:
        response = client.get(url)
        assert response.status_code == 200
        seen += rows_of(response)
        pages += 1
        url = response.context[direction]
        if url:
            url = LIST + url
    return seen, pages


@pytest.mark.parametrize("group", ["developers", "security-team", "cto", "managers"])
def test_every_group_may_read_the_inventory(people, client_for, group):
    secret = make_secrets(1)[0]
    run = SyncRun.objects.create(backend="vault", state="succeeded")
    client = client_for(people[group])
    for url in (
        LIST,
        secret.get_absolute_url(),
        reverse("inventory:runs"),
        reverse("inventory:run", args=[run.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
    assert secret.path in client.get(LIST).content.decode()


def test_people_outside_the_groups_and_anonymous_are_kept_out(person, client):
    make_secrets(1)
    assert client.get(LIST).status_code == 302
    from django.test import Client

    outsider = Client()
    outsider.force_login(person("nobody"))
    assert outsider.get(LIST).status_code == 403


@pytest.mark.parametrize("group", ["developers", "cto", "managers"])
def test_only_the_security_team_may_edit_register_or_sync(people, client_for, group):
    secret = make_secrets(1)[0]
    client = client_for(people[group])
    assert client.get(reverse("inventory:edit", args=[secret.pk])).status_code == 403
    assert client.get(reverse("inventory:register")).status_code == 403
    assert client.post(reverse("inventory:sync"), {"backend": "vault"}).status_code == 403
    assert "Edit metadata" not in client.get(secret.get_absolute_url()).content.decode()


def test_paging_forward_and_back_visits_every_row_once_in_order(people, client_for):
    made = make_secrets(60)
    client = client_for(people["developers"])
    seen, pages = walk(client, LIST)
    assert seen == sorted(s.path for s in made) and pages == 3
    last = client.get(LIST + "?last=1")
    back, _ = walk(client, LIST + "?last=1", "prev_url")
    assert rows_of(last) == seen[-len(rows_of(last)) :]
    assert sorted(back) == sorted(seen) and len(back) == len(seen)


@pytest.mark.parametrize("sort", ["next_due", "-next_due", "-path", "status", "owner_team", "-last_rotated"])
def test_every_sort_pages_through_all_rows_including_empty_dates(people, client_for, sort):
    made = make_secrets(55)
    client = client_for(people["developers"])
    seen, _ = walk(client, LIST + f"?sort={sort}")
    assert sorted(seen) == sorted(s.path for s in made) and len(seen) == len(set(seen))
    if sort == "next_due":
        dues = {s.path: s.next_due for s in made}
        values = [dues[p] for p in seen]
        dated = [v for v in values if v is not None]
        assert dated == sorted(dated) and values[len(dated) :] == [None] * (len(values) - len(dated))


def test_filters_narrow_the_list(people, client_for):
    made = make_secrets(40)
    client = client_for(people["managers"])
    response = client.get(LIST, {"kind": "password", "environment": "production"})
    expected = {s.path for s in made if s.kind == "password" and s.environment == "production"}
    assert set(rows_of(response)) == expected and response.context["count"] == len(expected)
    assert set(rows_of(client.get(LIST, {"status": "overdue", "backend": "vault"}))) == {
        s.path for s in made if s.status == "overdue" and s.backend == "vault"
    }
    assert set(rows_of(client.get(LIST, {"owner_team": "team-3"}))) == {
        s.path for s in made if s.owner_team == "team-3"
    }
    assert set(rows_of(client.get(LIST, {"tag": "tier=gold"}))) == {
        s.path for s in made if s.tags["tier"] == "gold"
    }
    assert len(rows_of(client.get(LIST, {"tag": "tier"}))) == 25
    assert rows_of(client.get(LIST, {"q": "APP-00017"})) == ["secret/team-3/app-00017"]


@pytest.mark.parametrize(
    "query",
    [
        {"sort": "password"},
        {"after": "!!not-base64"},
        {"before": paging.encode(Secret(path="x", pk=1), "path") + "x"},
        {"after": "WyJ4IiwgImEiXQ"},  # ["x", "a"]: id is not a number
        {"sort": "next_due", "after": "WyJub3QgYSBkYXRlIiwgMV0"},  # ["not a date", 1]
        {"tag": "="},
    ],
)
def test_bad_list_input_never_breaks_the_page(people, client_for, query):
    make_secrets(5)
    response = client_for(people["developers"]).get(LIST, query)
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ({"status": "bogus"}, "Select a valid choice. bogus is not one of the available choices."),
        ({"q": "x" * 500}, "Ensure this value has at most 200 characters (it has 500)."),
        ({"kind": "password", "environment": "moon"}, "moon is not one of the available choices."),
    ],
)
def test_an_invalid_filter_says_what_to_fix_and_lists_nothing(people, client_for, query, says):
    make_secrets(5)
    response = client_for(people["developers"]).get(LIST, query)
    html = response.content.decode()
    assert response.status_code == 400 and says in html
    assert "The filter has a problem, so nothing is listed" in html
    assert rows_of(response) == [] and response.context["count"] == 0


def test_query_count_per_page_does_not_grow_with_the_table(people, client_for):
    client = client_for(people["developers"])
    make_secrets(160)
    counts = []
    for extra in (0, 150):
        make_secrets(extra, start=1000)  # the second pass: more rows, same queries
        for query in ({}, {"status": "ok", "environment": "staging"}, {"sort": "-next_due"}):
            first = client.get(LIST, query)
            assert first.context["next_url"]
            with CaptureQueriesContext(connection) as deep:
                client.get(LIST + first.context["next_url"])
            deep_count = len(deep)  # read now: the next request clears the connection's query log
            with CaptureQueriesContext(connection) as top:
                client.get(LIST, query)
            counts.append((len(top), deep_count))
    assert counts[:3] == counts[3:], counts
    assert max(max(pair) for pair in counts) <= 10


def test_detail_shows_metadata_lineage_and_empty_sections(people, client_for):
    secret = make_secrets(1)[0]
    assert (secret.kind, secret.status) == ("api_key", "ok")  # a KV/AWS key: its metadata is editable
    response = client_for(people["security-team"]).get(secret.get_absolute_url())
    html = response.content.decode()
    assert "version 3" in html and "No rotation runs yet" in html and "No access grants yet" in html
    assert "Edit metadata" in html and "read-only" not in html


def test_a_certificate_detail_says_its_metadata_is_read_only(people, client_for):
    secret = make_secrets(4)[3]
    assert secret.kind == "certificate"
    html = client_for(people["security-team"]).get(secret.get_absolute_url()).content.decode()
    assert "Metadata of this certificate is read-only in vault" in html and "Edit metadata" not in html


def test_a_missing_secret_says_so_and_cannot_be_edited(people, client_for):
    secret = make_secrets(1)[0]
    Secret.objects.filter(pk=secret.pk).update(status="missing", missing_since=timezone.now(), kind="api_key")
    client = client_for(people["security-team"])
    assert "no longer has this secret" in client.get(secret.get_absolute_url()).content.decode()
    assert "cannot be changed" in client.get(reverse("inventory:edit", args=[secret.pk])).content.decode()


def test_unknown_ids_are_404(people, client_for):
    client = client_for(people["developers"])
    assert client.get(reverse("inventory:detail", args=[999999])).status_code == 404
    assert client.get(reverse("inventory:run", args=[999999])).status_code == 404


@pytest.mark.parametrize("sort", ["path", "-next_due"])
def test_a_search_pages_and_counts_every_match_once(people, client_for, sort):
    """A search counts by fetching the matching ids and pages over them: every match once, in
    order, with the right count, within the page's query budget; and over COUNT_CAP matches it
    pages the search itself."""
    from secrets_admin.inventory import views

    made = make_secrets(70)
    make_secrets(20, start=500)  # app-005xx: no match
    client = client_for(people["developers"])
    matching = {s.path for s in made if "app-000" in s.path}
    first = client.get(LIST, {"q": "APP-000", "sort": sort})
    assert first.context["count"] == len(matching) == 70 and not first.context["count_capped"]
    seen, pages = walk(client, LIST + f"?q=APP-000&sort={sort}")
    assert sorted(seen) == sorted(matching) and len(seen) == len(set(seen)) and pages == 3
    with CaptureQueriesContext(connection) as some:
        client.get(LIST, {"q": "APP-000"})
    with CaptureQueriesContext(connection) as none:
        assert client.get(LIST, {"q": "no-such-secret"}).context["count"] == 0
    assert len(none) <= len(some) <= 10  # nothing matched: no page query at all

    views.COUNT_CAP, cap = 30, views.COUNT_CAP
    try:
        capped = client.get(LIST, {"q": "APP-000"})
        seen, _ = walk(client, LIST + "?q=APP-000")
    finally:
        views.COUNT_CAP = cap
    assert capped.context["count"] == 30 and capped.context["count_capped"]
    assert sorted(seen) == sorted(matching)
