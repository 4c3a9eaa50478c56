"""The home page's tiles and charts for each group, the list behind the success tiles, and what a
bad query string or an empty estate shows."""

import re

import pytest

from tests.accounts.factories import verified_client
from tests.dashboard import estate


def _page(username, *groups, url="/"):
    client = verified_client(estate.person(username, *groups))
    response = client.get(url)
    return response, response.content.decode()


@pytest.mark.django_db
def test_a_manager_sees_the_tiles_with_links_to_the_lists_behind_them():
    estate.build()
    response, page = _page("manager", "managers")
    assert response.status_code == 200
    tiles = page[page.index('id="dashboard-tiles"') :]
    assert '/inventory/?backend=vault&amp;environment=production">3<' in tiles
    assert '/inventory/?status=overdue" data-tile-number>2<' in tiles
    assert '/dashboard/runs/?days=7">75.0%<' in tiles
    assert '/access/all/?status=active" data-tile-number>2<' in tiles
    assert '/dashboard/mfa/" data-tile-number>33.33%<' in tiles
    assert 'data-table="trend-table"' in page and 'id="age-table-api_key"' in page
    assert "<form" not in tiles  # read-only
    assert re.search(r'ws-connect="/ws/live/\?topic=dashboard.tiles&amp;view=tiles', page)


@pytest.mark.django_db
def test_a_developer_sees_no_dashboard_panels():
    estate.build()
    response, page = _page("dev", "developers")
    assert response.status_code == 200
    assert "dashboard-tiles" not in page and "chart.umd" not in page


@pytest.mark.django_db
def test_an_empty_estate_says_what_to_do_next():
    _, page = _page("sec", "security-team")
    assert "No secrets yet." in page and "run a sync" in page
    assert "No secrets to measure yet." in page
    assert "Nothing is planned for the next 30 days." in page
    assert "No rotation has ended in the last 90 days." in page
    assert 'data-chart="bar"' not in page  # no empty charts


@pytest.mark.django_db
def test_the_runs_list_behind_a_success_tile():
    estate.build()
    response, page = _page("cto", "cto", url="/dashboard/runs/?days=30&outcome=failed")
    assert response.status_code == 200
    rows = re.findall(r'<a href="/rotation/runs/(\d+)/">', page)
    assert len(rows) == 2  # the failed one (3 days) and the one left for a person (25 days)
    assert "6 runs ended, 4 finished" in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query, message",
    [
        ("days=abc", "days must be a whole number of days"),
        ("days=0", "greater than or equal to 1"),
        ("days=9999", "less than or equal to 366"),
        ("start=2026-13-01&end=2026-12-31", "start must be a date written YYYY-MM-DD"),
        ("start=2026-05-01&end=2026-04-01", "is after end"),
        ("start=2026-05-01", "needs both start and end"),
        ("start=2020-01-01&end=2026-01-01", "at most 366 days"),
        ("days=7&start=2026-01-01&end=2026-01-02", "either days or a start and end"),
        ("outcome=lost", "outcome must be one of ended, finished, failed"),
    ],
)
def test_a_bad_query_string_is_a_clear_400(query, message):
    response, page = _page("mgr", "managers", url=f"/dashboard/runs/?{query}")
    assert response.status_code == 400
    assert message in page.replace("&#x27;", "'")
    assert 'id="query-problems"' in page


@pytest.mark.django_db
def test_the_backends_panel_also_updates_the_backends_tile_for_those_who_have_it(settings):
    from django.core.cache import cache

    from console.health import CACHE_KEY

    settings.READINESS_PROBES = {"database": "console.health.probe_database"}
    cache.delete(CACHE_KEY)
    _, page = _page("mgr", "managers")
    assert "Not checked yet" in page  # the page itself never probes
    _, panel = _page("mgr2", "managers", url="/status/backends/")  # what htmx loads after the page
    assert '<div id="tile-backends-body" hx-swap-oob="innerHTML">' in panel
    assert '<span class="fs-4">1</span> up' in panel
    _, developer_panel = _page("dev", "developers", url="/status/backends/")
    assert "tile-backends-body" not in developer_panel  # no tile on their page to update
    cache.delete(CACHE_KEY)


@pytest.mark.django_db
def test_the_people_behind_the_mfa_tile_those_without_an_authenticator_first():
    estate.build()
    response, page = _page("mgr", "managers", url="/dashboard/mfa/")
    assert response.status_code == 200
    rows = re.findall(r"\((\w+)\)</span></th>.*?badge text-bg-(\w+)", page, re.S)
    assert rows == [("bob", "danger"), ("carol", "danger"), ("alice", "success")]
