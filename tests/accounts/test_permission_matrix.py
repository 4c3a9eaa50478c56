"""One parametrized test over tests/permission_matrix.py (every URL × every kind of visitor, and
where each redirect goes), and one that the matrix reaches every routed URL pattern."""

from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import URLResolver, get_resolver, resolve
from django_otp import DEVICE_ID_SESSION_KEY

from tests.accounts.factories import make_device
from tests.permission_matrix import ALL, IMPLIED_REDIRECTS, OPTIONAL, UNLISTED, URLS


def _expected(expected: dict, role: str):
    if role in expected:
        return expected[role]
    # "unverified" defaults to no_device's answer, with the code page in place of enrollment.
    fallback = expected["no_device"]
    return IMPLIED_REDIRECTS["unverified"] if fallback in (302, IMPLIED_REDIRECTS["no_device"]) else fallback


def _label(target):
    return target if isinstance(target, str) else getattr(target, "__name__", "callable")


def _cases():
    for index, entry in enumerate(URLS):
        target, expected = entry[0], entry[1]
        method = entry[2] if len(entry) > 2 else "get"
        missing = set(ALL) - set(expected)
        assert not missing, f"permission_matrix entry {index} lacks roles {sorted(missing)}"
        unknown = set(expected) - set(ALL) - set(OPTIONAL)
        assert not unknown, f"permission_matrix entry {index} names unknown roles {sorted(unknown)}"
        for role in (*ALL, *OPTIONAL):
            outcome = _expected(expected, role)
            yield pytest.param(
                target, method, role, outcome, id=f"{method.upper()} {_label(target)} as {role}"
            )


def client_for(role: str) -> Client:
    client = Client()
    if role == "anonymous":
        return client
    user = User.objects.create_user(username=f"matrix-{role}", password="matrix-password-123")
    in_developers = role in ("no_device", "unverified")
    user.groups.add(Group.objects.get(name="developers" if in_developers else role))
    client.force_login(user)
    if role != "no_device":
        device = make_device(user)
        if role != "unverified":
            session = client.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session.save()
    return client


def check(response, expected, role: str, where: str):
    """Assert one answer: a status, or a 302 to a path (implied for the roles that have one)."""
    if expected == 302:
        assert role in IMPLIED_REDIRECTS, f"{where}: say where the 302 goes (a path, not 302)"
        expected = IMPLIED_REDIRECTS[role]
    if isinstance(expected, int):
        assert response.status_code == expected, f"{where}: {response.status_code}, expected {expected}"
        return
    if expected.startswith("."):  # relative to the URL asked for: "../" is the object's page
        expected = urljoin(where.split(" ")[1], expected)
    location = response.get("Location", "")
    assert response.status_code == 302, f"{where}: {response.status_code}, expected a redirect to {expected}"
    got = urlsplit(location)
    assert not got.netloc, f"{where}: redirects off-site to {location}"
    wanted = urlsplit(expected)
    assert got.path == wanted.path, f"{where}: goes to {location}, expected {expected}"
    if wanted.query:
        assert parse_qs(got.query) == parse_qs(wanted.query), (
            f"{where}: goes to {location}, expected {expected}"
        )
    for next_url in parse_qs(got.query).get("next", []):
        assert next_url.startswith("/") and not next_url.startswith("//"), f"{where}: next={next_url}"


@pytest.mark.django_db
@pytest.mark.parametrize(("target", "method", "role", "expected"), list(_cases()))
def test_permission_matrix(settings, target, method, role, expected):
    settings.MFA_REQUIRED = True
    client = client_for(role)
    url = target() if callable(target) else target
    response = getattr(client, method)(url)
    check(response, expected, role, f"{method.upper()} {url} as {role}")


def routed_patterns(patterns=None, prefix=""):
    """Every URL pattern of the URLconf, spelled as ResolverMatch.route spells it."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = URLResolver._join_route(prefix, str(pattern.pattern))
        if isinstance(pattern, URLResolver):
            yield from routed_patterns(pattern.url_patterns, route)
        else:
            yield route


@pytest.mark.django_db
def test_every_routed_url_pattern_is_in_the_matrix_or_excused():
    reached = set()
    for entry in URLS:
        url = entry[0]() if callable(entry[0]) else entry[0]
        reached.add(resolve(urlsplit(url).path).route)
    routes = set(routed_patterns())
    stale = sorted(set(UNLISTED) - routes)
    assert not stale, f"UNLISTED names patterns the URLconf no longer has: {stale}"
    excused_without_reason = sorted(route for route, reason in UNLISTED.items() if len(reason.strip()) < 10)
    assert not excused_without_reason, f"UNLISTED entries need a reason: {excused_without_reason}"
    missing = sorted(routes - reached - set(UNLISTED))
    assert not missing, (
        "URL patterns with no row in tests/permission_matrix.py (add one per pattern, or an "
        f"UNLISTED entry with its reason): {missing}"
    )


def test_the_matrix_refuses_an_unnamed_or_wrong_redirect():
    from django.http import HttpResponse, HttpResponseRedirect

    check(HttpResponseRedirect("/accounts/login/?next=/audit/"), 302, "anonymous", "implied")
    check(
        HttpResponseRedirect("/accounts/mfa/verify/?next=%2F"), "/accounts/mfa/verify/", "managers", "named"
    )
    with pytest.raises(AssertionError, match="say where the 302 goes"):
        check(HttpResponseRedirect("/"), 302, "developers", "bare 302")
    with pytest.raises(AssertionError, match="goes to /elsewhere/"):
        check(HttpResponseRedirect("/elsewhere/"), 302, "anonymous", "wrong place")
    with pytest.raises(AssertionError, match="off-site"):
        check(HttpResponseRedirect("https://evil.example/accounts/login/"), 302, "anonymous", "off-site")
    with pytest.raises(AssertionError, match="next="):
        check(HttpResponseRedirect("/accounts/login/?next=//evil.example/"), 302, "anonymous", "open next")
    with pytest.raises(AssertionError, match="expected a redirect"):
        check(HttpResponse(status=200), "/", "cto", "no redirect")
