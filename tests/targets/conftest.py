"""Fixtures for rotation targets: a database on the session's scram PostgreSQL, OpenBao's
database engine configured on it, and settings naming it in ROTATION_TARGETS."""

import uuid
from dataclasses import dataclass

import pytest

from secrets_admin.backends.postgres_target import PostgresTarget, provision

TARGET = "test-target"


@dataclass
class TargetDatabase:
    server: object  # console.stack.pg_target.PostgresTarget (the running cluster)
    target: PostgresTarget  # the console's view of it: host, port, database
    owner: str
    owner_password: str

    def admin_dsn(self) -> str:
        return self.server.dsn("postgres")

    def reset_owner(self) -> None:
        """Give the connection's root login `owner_password` again (rotate-root changed it)."""
        provision(
            self.admin_dsn(), self.target.database, owner=self.owner, owner_password=self.owner_password
        )

    def login(self, password: str | None = None) -> tuple[str, str]:
        """A new login role on the target with this password (or a fresh one)."""
        name, password = f"app_{uuid.uuid4().hex[:8]}", password or uuid.uuid4().hex
        provision(self.admin_dsn(), self.target.database, owner=self.owner, logins=[(name, password, False)])
        return name, password

    def managed_login(self) -> str:
        """A login OpenBao may set the password of (granted to the connection's owner)."""
        name = f"static_{uuid.uuid4().hex[:8]}"
        provision(
            self.admin_dsn(), self.target.database, owner=self.owner,
            logins=[(name, uuid.uuid4().hex, True)],
        )  # fmt: skip
        return name


@pytest.fixture(scope="session")
def target_db(pg_target):
    owner, password = "openbao_root", uuid.uuid4().hex
    provision(pg_target.dsn("postgres"), "candlefish_target", owner=owner, owner_password=password)
    target = PostgresTarget(TARGET, pg_target.host, pg_target.port, "candlefish_target")
    return TargetDatabase(pg_target, target, owner, password)


@pytest.fixture
def rotation_target(settings, target_db):
    """settings.ROTATION_TARGETS names the session's target as "test-target"."""
    t = target_db.target
    settings.ROTATION_TARGETS = {TARGET: {"host": t.host, "port": t.port, "database": t.database}}
    return target_db
