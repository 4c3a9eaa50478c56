"""Fixtures for rotation targets: a database on the session's scram PostgreSQL, OpenBao's
database engine configured on it, and settings naming it in ROTATION_TARGETS."""

import uuid
from dataclasses import dataclass

import pytest

from secrets_admin.backends.postgres_target import PostgresTarget, provision
from tests.inventory.conftest import client_for, person, totp_for  # noqa: F401  (shared fixtures)

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

    def configure_engine(self, vault) -> dict:
        """OpenBao's database engine on this target under fresh names: a connection (its root
        login rotated at once: only OpenBao knows it then), a dynamic and a static role. Returns
        the names (connection, dynamic_role, static_role), the static role's login and the tag."""
        from secrets_admin.demo_targets import configure_database_engine

        tag = uuid.uuid4().hex[:6]
        names = {"connection": f"pg-{tag}", "dynamic_role": f"ro-{tag}", "static_role": f"static-{tag}"}
        static_login = self.managed_login()
        self.reset_owner()  # an earlier connection rotated the root login away from us
        configure_database_engine(
            vault, self.target, root_password=self.owner_password, static_login=static_login,
            user_prefix=f"t{tag}-", **names,
        )  # fmt: skip
        return {**names, "static_login": static_login, "tag": tag}


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


@pytest.fixture
def make_secret(db):
    """make_secret(path, backend=..., kind=..., **fields) -> an inventory Secret with the kind's
    default policy (its value, if any, is the test's business)."""
    from secrets_admin.inventory.models import RotationPolicy, Secret

    def make(path, *, backend="vault", kind="password", **fields):
        policy = RotationPolicy.objects.filter(kind=kind, is_default=True).first()
        name = fields.pop("name", path.rsplit("/", 1)[-1])
        return Secret.objects.create(
            backend=backend, path=path, name=name, kind=kind, rotation_policy=policy, **fields
        )

    return make


@pytest.fixture
def password_secret(make_secret, rotation_target, openbao, moto):
    """password_secret("vault"|"aws", password=None, login=None) -> (Secret, login, password): a
    password in that backend whose login on the test target has that same password."""
    import boto3
    import hvac

    raw_kv = hvac.Client(url=openbao.url, token=openbao.token)
    raw_sm = boto3.client("secretsmanager", endpoint_url=moto.url, region_name="us-east-1")

    def make(backend: str, *, password: str | None = None, login: str | None = None, tagged: bool = True):
        password = password or uuid.uuid4().hex
        login = login or rotation_target.login(password)[0]
        tags = {"target": TARGET, "target_login": login} if tagged else {}
        name = f"rolling-{uuid.uuid4().hex[:10]}/db-password"
        if backend == "vault":
            raw_kv.secrets.kv.v2.create_or_update_secret(
                path=name, secret={"value": password}, mount_point="secret"
            )
            if tags:
                raw_kv.secrets.kv.v2.update_metadata(path=name, custom_metadata=tags, mount_point="secret")
            return make_secret(f"secret/{name}", backend="vault", tags=tags), login, password
        aws_tags = [{"Key": k, "Value": v} for k, v in tags.items()]
        arn = raw_sm.create_secret(Name=name, SecretString=password, Tags=aws_tags)["ARN"]
        return make_secret(arn, backend="aws", tags=tags, name=name), login, password

    return make
