"""Accounts fixtures. `person("carol", "security-team", device=True, verified=True)` returns
(user, device, client). Helpers live in tests/accounts/factories.py.
"""

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY

from tests.accounts.factories import PASSWORD, make_device


@pytest.fixture
def person(db):
    def make(username, *groups, device=True, verified=True, superuser=False):
        user = User.objects.create_user(
            username=username,
            email=f"{username}@candlefish.example",
            password=PASSWORD,
            is_superuser=superuser,
            is_staff=superuser,
        )
        for name in groups:
            user.groups.add(Group.objects.get(name=name))
        dev = make_device(user) if device else None
        client = Client()
        client.force_login(user)
        if dev is not None and verified:
            session = client.session
            session[DEVICE_ID_SESSION_KEY] = dev.persistent_id
            session.save()
        return user, dev, client

    return make
