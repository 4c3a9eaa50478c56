"""Search answers exactly "some searched column contains the term, in any case", whichever index
finds the candidates: the 6-character windows (terms of 6+ characters, migration 0007) or the
trigrams (shorter terms, or a term holding a newline). LIKE's metacharacters are literal."""

import pytest
from django.db import connection

from secrets_admin.inventory.filters import GRAM, search
from secrets_admin.inventory.models import Secret
from tests.markers import requires_postgres

pytestmark = pytest.mark.django_db

ROWS = [
    # path, owner team, purpose (the name is the path's last segment)
    ("secret/pay/stripe", "payments", "charges cards for the shop"),
    ("secret/sale/50%off_now", "growth", "promo codes: 50%OFF"),
    ("secret/sale/50xoff-now", "growth", "promo 50Xoff"),
    ("secret/win/back\\slash", "it", "a\\b and a_b"),
    ("secret/win/backxslash", "it", "axb"),
    ("secret/team-05/service-050/key-0500000", "team-05", "used by service 50"),
    ("secret/team-05/service-050/key-0500001", "team-05", "used by service 50"),
    ("secret/team-01/service-500/key-0050000", "team-01", "used by service 500"),
    ("secret/team-15/service-005/key-1500000", "team-15", "line one\nline two"),
]

TERMS = [
    # the windows index (6+ characters, no newline)
    "stripe",
    "STRIPE payments",  # spans two columns: no match
    "50%off",  # % is literal: not 50xoff
    "50%OFF_NOW",
    "%off_now",
    "back\\slash",  # \ is literal: not backxslash
    "a\\b and",
    "key-050000",
    "key-0500000",
    "y-05000",
    "team-05/service",
    "service 50",
    "service-050/key-05",
    "nothing-like-this",
    # the trigram index (shorter, or holding a newline)
    "e two",
    "%",
    "_",
    "\\",
    "a_b",
    "a\\b",
    "50%",
    "ripe",
    "KEY",
    "one\nline",  # inside one column (purpose): a match
    "stripe\npayments",  # name, then owner team: no match
]


@pytest.fixture
def estate():
    for path, owner, purpose in ROWS:
        Secret.objects.create(
            backend="vault", path=path, name=path.rsplit("/", 1)[1], owner_team=owner, purpose=purpose
        )


def expected(term: str) -> list[str]:
    wanted = term.strip().upper()
    return sorted(
        path
        for path, owner, purpose in ROWS
        if any(wanted in text.upper() for text in (path, path.rsplit("/", 1)[1], owner, purpose))
    )


@pytest.mark.parametrize("term", TERMS)
def test_search_finds_exactly_the_rows_holding_the_term(estate, term):
    found = sorted(search(Secret.objects.all(), term).values_list("path", flat=True))
    assert found == expected(term)


def test_the_terms_cover_both_indexes_and_some_match():
    """The cases above are not vacuous: both kinds of term, with and without matches."""
    long_terms = [t for t in TERMS if len(t) >= GRAM and "\n" not in t]
    short_terms = [t for t in TERMS if t not in long_terms]
    assert long_terms and short_terms
    for terms in (long_terms, short_terms):
        assert any(expected(t) for t in terms) and any(not expected(t) for t in terms)
    assert expected("50%off") == ["secret/sale/50%off_now"]
    assert expected("key-050000") == [
        "secret/team-05/service-050/key-0500000",
        "secret/team-05/service-050/key-0500001",
    ]


def plan(term: str) -> str:
    with connection.cursor() as cursor:
        # as on a large table: no reading it all, in either order
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        sql, params = search(Secret.objects.all(), term).query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


@requires_postgres
@pytest.mark.parametrize(
    "term, index",
    [
        ("key-050000", "secret_search_grams"),
        ("stripe", "secret_search_grams"),
        ("50%off", "secret_search_grams"),
        ("tripe", "secret_search_trgm"),
        ("one\nline two", "secret_search_trgm"),
    ],
)
def test_a_term_reads_the_index_for_its_length(estate, term, index):
    text = plan(term)
    assert index in text and "Seq Scan" not in text, text
    other = {"secret_search_grams", "secret_search_trgm"} - {index}
    assert other.pop() not in text, text


@requires_postgres
def test_the_windows_are_six_characters_within_one_column():
    with connection.cursor() as cursor:
        cursor.execute("SELECT inventory_grams(%s), inventory_grams(%s)", ["abcdefgh\nxyz", "abcde"])
        windows, short = cursor.fetchone()
    # no window holds the newline between two columns; a text under six characters has none
    assert sorted(windows) == ["abcdef", "bcdefg", "cdefgh"] and short == []


@requires_postgres
def test_the_runtime_role_writes_and_searches_through_the_windows_index(estate):
    """The production role (no ownership; deploy/postgres/roles.sh) maintains the index on insert
    and calls inventory_grams for the term. The role is rolled back with the test."""
    import uuid

    from secrets_admin.audit.db_roles import grant_runtime_role

    role = f"cf_runtime_{uuid.uuid4().hex[:8]}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE ROLE "{role}" NOLOGIN')
    grant_runtime_role(role)
    with connection.cursor() as cursor:
        cursor.execute(f'SET LOCAL ROLE "{role}"')
    Secret.objects.create(backend="vault", path="secret/new/key-0500009", name="key-0500009")
    found = search(Secret.objects.all(), "KEY-0500009").values_list("path", flat=True)
    assert list(found) == ["secret/new/key-0500009"]
