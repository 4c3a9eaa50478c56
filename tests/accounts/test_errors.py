"""400, 403, 404 and 500 render inside the console's layout, with its navigation; the 403 says
which group the page needs and whom to ask."""

import pytest
from django.test import Client

from tests.accounts.factories import verified_client

pytestmark = pytest.mark.django_db


def in_layout(response, status):
    html = response.content.decode()
    assert response.status_code == status
    assert 'id="error-page"' in html and f"Error {status}" in html
    assert '<nav class="navbar' in html and 'href="/"' in html  # the layout, with its navigation
    return html


def test_a_403_names_the_group_the_page_needs_and_whom_to_ask(person):
    person("carol", "security-team")
    person("dave", "security-team")
    _, _, client = person("alice", "developers")
    html = in_layout(client.get("/accounts/members/"), 403)
    assert 'href="/inventory/"' in html  # alice's own navigation is there
    needed = html[html.index('id="needed-groups"') :]
    assert "<strong>security-team</strong>" in needed and "You are in developers." in needed
    assert "a member of the security team (carol, dave)" in html and "Members page" in html


def test_a_403_for_a_page_of_several_groups_names_them_all(person):
    _, _, client = person("bob", "developers")
    html = in_layout(client.get("/audit/"), 403)
    assert "<strong>security-team</strong> or <strong>cto</strong> or <strong>managers</strong>" in html


def test_a_person_in_no_group_is_told_so(person):
    _, _, client = person("nobody")
    html = in_layout(client.get("/audit/"), 403)
    assert "You are not in any group yet." in html


def test_a_404_is_inside_the_layout(person):
    _, _, client = person("alice", "developers")
    html = in_layout(client.get("/no/such/page/"), 404)
    assert "There is no page at this address." in html
    assert "Page not found" in in_layout(Client().get("/no/such/page/"), 404)  # anonymous too


@pytest.mark.urls("tests.accounts.error_urls")
def test_a_400_and_a_500_are_inside_the_layout_with_the_request_id(person):
    _, _, client = person("alice", "developers")
    client.raise_request_exception = False
    in_layout(client.get("/bad/"), 400)
    response = client.get("/boom/")
    html = in_layout(response, 500)
    assert response["X-Request-ID"] in html and "a bug" not in html
    assert 'href="/inventory/"' in html


def test_a_csrf_failure_is_inside_the_layout(person):
    user, device, _ = person("alice", "developers")
    client = verified_client(user, device)
    client.handler.enforce_csrf_checks = True
    html = in_layout(client.post("/accounts/members/", {}), 403)
    assert "The form expired" in html
