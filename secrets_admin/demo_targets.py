"""The demo estate's rotation target: the embedded scram PostgreSQL `make run` supervises
(`console/stack/pg_target.py`), OpenBao's database engine on it, and password secrets (KV v2
and AWS) whose logins live on it, so all three target strategies rotate for real.

`make run` passes the target's superuser password to `seed_demo` alone (DEMO_TARGET_PASSWORD);
the console itself never holds it. Values are generated here, written to the backend and to the
target in memory, and never printed or kept.
"""

import os
import uuid

from secrets_admin.backends import BackendError
from secrets_admin.backends import vault_engines as engines
from secrets_admin.backends.passwords import generate
from secrets_admin.backends.postgres_target import LOGIN_TAG, TARGET_TAG, get_target, provision

DEMO_TARGET = "demo-postgres"  # its name in ROTATION_TARGETS, and the OpenBao connection's
ROOT_LOGIN = "openbao_root"  # the connection's root login; rotated at once, only OpenBao knows it
STATIC_LOGIN = "app_static"
DYNAMIC_ROLE, STATIC_ROLE = "app-readonly", "app-static"
USER_PREFIX = "cfdemo-"
# Passwords that rotate by the rolling strategy: (backend kind, path or name, login, team, purpose)
ROLLING = [
    ("vault", "payments/production/orders-db-password", "orders_app", "payments", "Orders database login"),
    ("vault", "identity/staging/sessions-db-password", "sessions_app", "identity", "Session store login"),
    ("aws", "prod/data/reporting-db-password", "reporting_app", "data", "Reporting database login"),
]


# A certificate the graceful strategy renews in make run: 90 days of life, 20 left (issued
# backdated through a role of its own), so its replacement (90 days again) is not due at once.
# The other demo certificates live shorter than the 30-day lead and renew in their last third.
RENEWABLE_CERTIFICATES = [("billing.payments.internal", "480h", "1680h")]  # (name, ttl, backdated by)


def seed_renewable_certificates(vault, stdout) -> None:
    pki = vault.mounts["pki"]
    present = {item.name for item in vault.walk_pki() if getattr(item, "name", None)}
    made = 0
    for common_name, ttl, backdate in RENEWABLE_CERTIFICATES:
        if common_name in present:
            continue
        role = "candlefish-demo-backdated"
        body = {"allow_any_name": True, "max_ttl": "8760h", "key_type": "ec", "key_bits": 256,
                "not_before_duration": backdate}  # fmt: skip
        vault._call("POST", f"{pki}/roles/{role}", "write the backdated demo role", json=body)
        answer = vault._call(
            "POST",
            f"{pki}/issue/{role}",
            "issue a demo certificate",
            json={"common_name": common_name, "ttl": ttl},
        )
        del answer  # holds the private key
        made += 1
    left = len(RENEWABLE_CERTIFICATES) - made
    stdout.write(f"demo estate: {made} certificates for graceful renewal ({left} already there)")


def configure_database_engine(
    vault, target, *, root_password, root_user=ROOT_LOGIN, connection=DEMO_TARGET, static_login=STATIC_LOGIN,
    dynamic_role=DYNAMIC_ROLE, static_role=STATIC_ROLE, user_prefix=USER_PREFIX, rotate=True,
):  # fmt: skip
    """Connection + dynamic role + static role in OpenBao's database engine on `target`
    (provisioned with `provision`), then rotate-root so only OpenBao knows the root password."""
    engines.configure_connection(
        vault,
        connection,
        target,
        root_user=root_user,
        root_password=root_password,
        allowed_roles=[dynamic_role, static_role],
        username_template=user_prefix + "{{.RoleName}}-{{random 8}}",
    )
    engines.create_dynamic_role(vault, dynamic_role, connection=connection, database=target.database)
    engines.create_static_role(vault, static_role, connection=connection, username=static_login)
    if rotate:
        engines.rotate_root(vault, connection)


def seed_targets(vault, aws, stdout) -> None:
    """Provision the demo target, configure OpenBao's database engine on it and write the
    rolling demo passwords; skipped with a message when there is no target to use."""
    password = os.environ.get("DEMO_TARGET_PASSWORD", "")
    try:
        target = get_target(DEMO_TARGET)
    except BackendError:
        target = None
    if target is None or not password:
        stdout.write(
            "demo estate: skipping the rotation target: no embedded PostgreSQL "
            "(make run starts one; ROTATION_TARGETS and DEMO_TARGET_PASSWORD name it)"
        )
        return
    admin = target.dsn("postgres", password, database="postgres")
    root_password = generate("password")
    provision(
        admin,
        target.database,
        owner=ROOT_LOGIN,
        owner_password=root_password,
        logins=[(STATIC_LOGIN, generate("password"), True)],
    )
    configure_database_engine(vault, target, root_password=root_password)
    del root_password
    leases = [lease for lease in engines.list_leases(vault) if lease.role == DYNAMIC_ROLE]
    for _ in range(max(0, 2 - len(leases))):  # outstanding leases to list; the logins are dropped here
        engines.dynamic_credentials(vault, DYNAMIC_ROLE)
    made = 0
    for kind, path, login, team, purpose in ROLLING:
        backend = vault if kind == "vault" else aws
        if backend is not None:
            made += _seed_rolling(backend, kind, path, login, team, purpose, admin)
    stdout.write(
        f"demo estate: rotation target {DEMO_TARGET} at {target.host}:{target.port}/{target.database}: "
        f"connection, roles {DYNAMIC_ROLE} and {STATIC_ROLE}, {made} rolling passwords"
    )


def _seed_rolling(backend, kind, path, login, team, purpose, admin_dsn) -> int:
    """One password secret whose login exists on the target with the same value (the value
    already in the backend when the secret exists, so re-seeding keeps them in agreement)."""
    if kind == "vault":
        environment = path.split("/")[1]
    else:
        environment = {"prod": "production", "dev": "development"}.get(path.split("/")[0], "staging")
    tags = {"owner": team, "purpose": purpose, "environment": environment, "kind": "password",
            TARGET_TAG: DEMO_TARGET, LOGIN_TAG: login}  # fmt: skip
    if kind == "vault":
        value = _kv_value(backend, path) or _kv_create(backend, path, tags)
    else:
        value = _aws_value(backend, path) or _aws_create(backend, path, tags)
    provision(admin_dsn, get_target(DEMO_TARGET).database, owner=ROOT_LOGIN, logins=[(login, value, False)])
    del value
    return 1


def _kv_value(vault, key) -> str | None:
    if not vault.kv_exists(key):
        return None
    with vault.errors("read demo password"):
        data = vault.client.secrets.kv.v2.read_secret_version(
            key, mount_point=vault.mounts["kv"], raise_on_deleted_version=True
        )
    return data["data"]["data"]["value"]


def _kv_create(vault, key, tags) -> str:
    value = generate("password")
    with vault.errors("seed demo password"):
        kv = vault.client.secrets.kv.v2
        kv.create_or_update_secret(key, secret={"value": value}, cas=0, mount_point=vault.mounts["kv"])
        kv.update_metadata(key, custom_metadata=tags, mount_point=vault.mounts["kv"])
    return value


def _aws_value(aws, name) -> str | None:
    with aws.errors("read demo password"):
        try:
            return aws.client.get_secret_value(SecretId=name, VersionStage="AWSCURRENT")["SecretString"]
        except aws.client.exceptions.ResourceNotFoundException:
            return None


def _aws_create(aws, name, tags) -> str:
    value = generate("password")
    with aws.errors("seed demo password"):
        aws.client.create_secret(
            Name=name,
            SecretString=value,
            ClientRequestToken=str(uuid.uuid4()),
            Tags=[{"Key": key, "Value": val} for key, val in tags.items()],
        )
    return value
