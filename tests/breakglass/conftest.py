"""Break-glass fixtures: fixed actors per role (alice asks, carol and erin approve, frank reads),
each with a real authenticator; a KV secret in the test OpenBao with its inventory row; codes
from pyotp as the independent client."""

import hvac
import pytest
from django.contrib.auth.models import Group, User

from secrets_admin.roles import CTO, DEVELOPERS, MANAGERS, SECURITY_TEAM
from tests.accounts.factories import code_at_step, make_device, verified_client


class Actor:
    def __init__(self, user, device):
        self.user, self.device = user, device
        self._offset = -1

    def code(self) -> str:
        """A fresh code: each call moves one step on (each code works once)."""
        self._offset += 1
        return code_at_step(self.device, min(self._offset, 1))

    def client(self):
        return verified_client(self.user, self.device)


@pytest.fixture
def actor(db):
    def make(username, *groups):
        user = User.objects.create_user(username, f"{username}@candlefish.example", "a-long-test-password")
        for name in groups:
            user.groups.add(Group.objects.get_or_create(name=name)[0])
        return Actor(user, make_device(user))

    return make


@pytest.fixture
def alice(actor):
    return actor("alice", DEVELOPERS)


@pytest.fixture
def carol(actor):
    return actor("carol", SECURITY_TEAM)


@pytest.fixture
def erin(actor):
    return actor("erin", CTO)


@pytest.fixture
def frank(actor):
    return actor("frank", MANAGERS)


@pytest.fixture
def root(openbao):
    return hvac.Client(url=openbao.url, token=openbao.token)


@pytest.fixture
def secret_at(root, kv_prefix, db):
    """secret_at("payments/db", value, environment=...) -> the inventory Secret of a real KV key."""
    from secrets_admin.inventory.models import RotationPolicy, Secret

    def make(key, value="s3cr3t-value", environment="production", kind="password"):
        full = f"{kv_prefix}/{key}"
        root.secrets.kv.v2.create_or_update_secret(path=full, secret={"value": value}, mount_point="secret")
        return Secret.objects.create(
            backend="vault",
            path=f"secret/{full}",
            name=key,
            kind=kind,
            environment=environment,
            rotation_policy=RotationPolicy.objects.filter(kind=kind, is_default=True).first(),
        )

    return make


@pytest.fixture
def ask(alice):
    """ask(paths, kind="break_glass", ...) -> a pending AccessRequest by alice."""
    from breakglass.services.requests import do_request

    def make(
        *secrets,
        kind="break_glass",
        who=None,
        reason="The payments database is down and I must read its password.",
        **kw,
    ):
        return do_request(
            actor=(who or alice).user, kind=kind, reason=reason, scope=[s.path for s in secrets], **kw
        )

    return make
