"""The home page shows the panels a person's groups may see, and only those."""

import pytest
from django.contrib.auth.models import Group, User
from django.utils.html import format_html

from secrets_admin.dashboard import panels
from tests.accounts.factories import make_device, verified_client


@pytest.fixture
def two_panels(monkeypatch):
    monkeypatch.setattr(panels, "PANELS", {})
    panels.register(
        "for-managers",
        title="Managers' panel",
        groups=["managers"],
        order=20,
        render=lambda request: format_html("<p>{}</p>", "managers-only figure"),
    )
    panels.register(
        "for-security",
        title="Security panel",
        groups=["security-team", "cto"],
        order=10,
        render=lambda request: format_html("<p>{}</p>", "security figure"),
    )


def _client(username, *groups):
    user = User.objects.create_user(username=username, password="x-long-enough-password")
    for name in groups:
        user.groups.add(Group.objects.get(name=name))
    return user, verified_client(user, make_device(user))


@pytest.mark.django_db
def test_home_shows_only_the_panels_of_the_persons_groups_in_order(two_panels):
    user, client = _client("both", "managers", "security-team")
    page = client.get("/").content.decode()
    assert page.index("security figure") < page.index("managers-only figure")
    assert [p.name for p in panels.panels_for(user)] == ["for-security", "for-managers"]

    _, developer = _client("dev", "developers")
    page = developer.get("/").content.decode()
    assert "security figure" not in page and "managers-only figure" not in page


@pytest.mark.django_db
def test_a_panel_must_name_a_group_and_a_name_is_registered_once(two_panels):
    with pytest.raises(ValueError, match="names no group"):
        panels.register("nobody", title="x", groups=[], order=1, render=lambda r: "")
    with pytest.raises(ValueError, match="already registered"):
        panels.register("for-managers", title="x", groups=["cto"], order=1, render=lambda r: "")


@pytest.mark.django_db
def test_panels_from_stored_figures_render_once_per_context_and_never_serve_old_html(monkeypatch):
    """render_once keeps the HTML per (template, whole context): the same figures are not
    rendered again, and any change in them (a recompute) renders anew."""
    from secrets_admin.dashboard import charts
    from secrets_admin.dashboard.services import snapshot
    from tests.dashboard import estate

    rendered = []
    real = panels.render_to_string
    monkeypatch.setattr(panels, "render_to_string", lambda *a, **k: rendered.append(a[0]) or real(*a, **k))
    monkeypatch.setattr(panels, "RENDERED", type(panels.RENDERED)())

    estate.secret("k/1")
    snapshot.recompute()
    first = charts.age_html()
    assert charts.age_html() == first and rendered == ["dashboard/age.html"]  # once for both
    estate.secret("p/1", kind="password")
    snapshot.recompute()
    second = charts.age_html()
    assert rendered == ["dashboard/age.html"] * 2 and second != first
    assert 'id="age-password"' in second and 'id="age-password"' not in first
