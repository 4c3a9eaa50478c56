"""One parametrized test over tests/permission_matrix.py: every URL × every kind of visitor."""

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY

from tests.accounts.factories import make_device
from tests.permission_matrix import ALL, URLS


def _cases():
    for index, entry in enumerate(URLS):
        target, expected = entry[0], entry[1]
        method = entry[2] if len(entry) > 2 else "get"
        missing = set(ALL) - set(expected)
        assert not missing, f"permission_matrix entry {index} lacks roles {sorted(missing)}"
        label = target if isinstance(target, str) else getattr(target, "__name__", "callable")
        for role in ALL:
            yield pytest.param(target, method, role, expected[role], id=f"{method.upper()} {label} as {role}")


def client_for(role: str) -> Client:
    client = Client()
    if role == "anonymous":
        return client
    user = User.objects.create_user(username=f"matrix-{role}", password="matrix-password-123")
    user.groups.add(Group.objects.get(name="developers" if role == "no_device" else role))
    client.force_login(user)
    if role != "no_device":
        device = make_device(user)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


@pytest.mark.django_db
@pytest.mark.parametrize(("target", "method", "role", "status"), list(_cases()))
def test_permission_matrix(settings, target, method, role, status):
    settings.MFA_REQUIRED = True
    client = client_for(role)
    url = target() if callable(target) else target
    response = getattr(client, method)(url)
    assert response.status_code == status, f"{method.upper()} {url} as {role}: {response.status_code}"
