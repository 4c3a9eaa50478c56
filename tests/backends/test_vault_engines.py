"""OpenBao beyond KV: PKI certificates, the database engine on a real PostgreSQL, a sealed
server, and the console's own AppRole policy."""

import time
import uuid

import hvac
import pytest
from cryptography import x509

from console.stack.servers import OpenBao, free_port
from secrets_admin.backends.base import BackendError, ListingProblem
from secrets_admin.backends.vault import CONSOLE_POLICY, VaultBackend
from secrets_admin.demo_targets import configure_database_engine
from tests.backends.contract import META, walk
from tests.backends.test_vault_contract import token_with_policy, vault_config

HEALTH_ONLY = 'path "sys/health" { capabilities = ["read"] }'


@pytest.fixture
def root(openbao):
    return hvac.Client(url=openbao.url, token=openbao.token)


def issue(root, common_name, ttl):
    data = root.secrets.pki.generate_certificate("candlefish", common_name, extra_params={"ttl": ttl})["data"]
    return (
        data["serial_number"],
        x509.load_pem_x509_certificate(data["certificate"].encode()),
        data["private_key"],
    )


class TestPki:
    def test_issued_certificates_are_listed_with_subject_issuer_and_expiry(self, openbao, root):
        serial, cert, private_key = issue(root, f"svc-{uuid.uuid4().hex[:6]}.payments.internal", "72h")
        backend = VaultBackend("vault-pki", vault_config(openbao, engines="pki"))
        found, problems = walk(backend)
        assert problems == []
        secret = found[f"pki/cert/{serial}"]
        assert secret.kind == "certificate"
        assert secret.name == cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
        assert secret.expires_at == cert.not_valid_after_utc
        assert secret.details["serial"] == serial and secret.details["issuer"] == "CN=Candlefish Demo Root CA"
        assert secret.details["is_ca"] is False and secret.details["revoked"] is False
        assert secret.versions[0].version_id == serial and secret.versions[0].current
        assert "PRIVATE KEY" not in repr(found) and private_key.splitlines()[1] not in repr(found)
        assert backend.describe(f"pki/cert/{serial}") == secret
        assert any(item.details.get("is_ca") for item in found.values()), "the root CA is listed too"

    def test_a_revoked_certificate_is_flagged_and_no_longer_current(self, openbao, root):
        serial, _, _ = issue(root, "revoked.identity.internal", "24h")
        root.secrets.pki.revoke_certificate(serial)
        secret = VaultBackend("vault-pki", vault_config(openbao, engines="pki")).describe(
            f"pki/cert/{serial}"
        )
        assert secret.details["revoked"] is True and secret.details["revoked_at"]
        assert not secret.versions[0].current

    def test_certificates_are_read_only_and_unknown_serials_are_not_found(self, openbao, root):
        serial, _, _ = issue(root, "ro.platform.internal", "1h")
        backend = VaultBackend("vault-pki", vault_config(openbao, engines="pki"))
        with pytest.raises(BackendError, match="read-only") as caught:
            backend.write_metadata(f"pki/cert/{serial}", {"owner": "platform"})
        assert caught.value.permanent and not backend.writable_metadata(f"pki/cert/{serial}")
        with pytest.raises(BackendError, match="not found") as caught:
            backend.describe("pki/cert/00:11:22")
        assert caught.value.permanent


@pytest.fixture
def engine(openbao, root, pg_database):
    """A connection, a dynamic and a static role on this session's PostgreSQL database."""
    tag = uuid.uuid4().hex[:6]
    names = {"connection": f"pg-{tag}", "dynamic_role": f"ro-{tag}", "static_role": f"static-{tag}"}
    db = pg_database
    configure_database_engine(
        VaultBackend("vault-setup", vault_config(openbao)),
        db.target,
        root_password=db.owner_password,
        root_user=db.owner,
        static_login=db.static_user,
        user_prefix=db.user_prefix,
        **names,
    )
    yield names
    root.sys.revoke_prefix(f"database/creds/{names['dynamic_role']}")
    root.secrets.database.delete_static_role(names["static_role"])
    root.secrets.database.delete_role(names["dynamic_role"])
    root.secrets.database.delete_connection(names["connection"])


class TestDatabaseEngine:
    def test_connection_roles_and_outstanding_leases_are_listed(self, openbao, root, engine, pg_database):
        from psycopg import connect

        logins = [
            root.secrets.database.generate_credentials(engine["dynamic_role"])["data"] for _ in range(2)
        ]
        backend = VaultBackend("vault-db", vault_config(openbao, engines="database"))
        found, problems = walk(backend)
        assert problems == []
        connection = found[f"database/config/{engine['connection']}"]
        assert connection.kind == "database" and connection.details["plugin"] == "postgresql-database-plugin"
        assert "{{password}}" in connection.details["connection_url"]
        role = found[f"database/roles/{engine['dynamic_role']}"]
        assert role.details["outstanding_leases"] == 2 and role.details["connection"] == engine["connection"]
        assert role.rotation == {"enabled": True, "dynamic": True, "ttl": 3600, "max_ttl": 86400}
        static = found[f"database/static-roles/{engine['static_role']}"]
        assert static.details["username"] == pg_database.static_user
        assert static.rotation["interval_days"] == 7 and static.rotation["rotation_period"] == 7 * 86400
        assert static.last_rotated is not None and static.versions[0].created_at == static.last_rotated
        # The logins are real: PostgreSQL has them, and none of their passwords reached the records.
        with connect(pg_database.server.dsn("postgres")) as conn:
            names = {row[0] for row in conn.execute("SELECT rolname FROM pg_roles WHERE rolname LIKE %s",
                                                   [pg_database.user_prefix + "%"])}  # fmt: skip
        assert {login["username"] for login in logins} <= names
        static_password = root.secrets.database.get_static_credentials(engine["static_role"])["data"][
            "password"
        ]
        text = repr(found)
        assert static_password not in text and not any(login["password"] in text for login in logins)

    def test_a_revoked_lease_is_no_longer_counted(self, openbao, root, engine):
        leases = [
            root.secrets.database.generate_credentials(engine["dynamic_role"])["lease_id"] for _ in range(2)
        ]
        root.sys.revoke_lease(leases[0])
        backend = VaultBackend("vault-db", vault_config(openbao, engines="database"))
        assert backend.describe(f"database/roles/{engine['dynamic_role']}").details["outstanding_leases"] == 1

    def test_leases_that_cannot_be_counted_are_reported_on_the_role(self, openbao, root, engine):
        token = token_with_policy(root, 'path "database/*" { capabilities = ["read", "list"] }')
        backend = VaultBackend("vault-db", vault_config(openbao, token=token, engines="database"))
        role = backend.describe(f"database/roles/{engine['dynamic_role']}")
        assert role.details["outstanding_leases"] is None
        assert "permission denied" in role.details["problems"][0]

    def test_a_literal_password_in_a_connection_url_is_masked(self, openbao, root, pg_database):
        name = f"literal-{uuid.uuid4().hex[:6]}"
        target = pg_database.target
        url = f"postgresql://postgres:Literal-Pw-123@{target.host}:{target.port}/{target.database}"
        root.secrets.database.configure(name, "postgresql-database-plugin", connection_url=url,
                                        verify_connection=False)  # fmt: skip
        try:
            secret = VaultBackend("vault-db", vault_config(openbao)).describe(f"database/config/{name}")
        finally:
            root.secrets.database.delete_connection(name)
        assert "Literal-Pw-123" not in repr(secret) and ":***@" in secret.details["connection_url"]


class TestServerStates:
    def test_a_sealed_server_is_a_temporary_error_that_says_sealed(self, tmp_path):
        server = OpenBao(tmp_path, token="sealed-root").start()
        try:
            server.wait_ready()
            hvac.Client(url=server.url, token=server.token).sys.seal()
            backend = VaultBackend("vault-sealed", {"url": server.url, "token": server.token, "timeout": 2})
            with pytest.raises(BackendError) as caught:
                list(backend.iter_secrets())
            assert not caught.value.permanent and "sealed" in str(caught.value)
            with pytest.raises(BackendError, match="sealed"):
                backend.ping()
        finally:
            server.stop()

    def test_unreachable_and_denied_read_differently(self, openbao, root):
        down = VaultBackend("v", vault_config(openbao, url=f"http://127.0.0.1:{free_port()}", engines="kv"))
        denied = VaultBackend(
            "v", vault_config(openbao, token=token_with_policy(root, HEALTH_ONLY), engines="kv")
        )
        messages = []
        for backend in (down, denied):
            with pytest.raises(BackendError) as caught:
                list(backend.iter_secrets())
            messages.append(str(caught.value))
        assert "unreachable" in messages[0] and "permission denied" not in messages[0]
        assert "permission denied" in messages[1] and "unreachable" not in messages[1]


class TestConsolePolicy:
    @pytest.fixture
    def approle(self, root):
        role_id = root.auth.approle.read_role_id(CONSOLE_POLICY)["data"]["role_id"]
        secret_id = root.auth.approle.generate_secret_id(CONSOLE_POLICY)["data"]["secret_id"]
        return {"token": None, "role_id": role_id, "secret_id": secret_id}

    def test_the_console_policy_allows_everything_the_inventory_does(self, openbao, root, approle, kv_prefix):
        root.secrets.kv.v2.create_or_update_secret(f"{kv_prefix}/app/key", secret={"value": "v"})
        root.secrets.kv.v2.update_metadata(f"{kv_prefix}/app/key", custom_metadata=META)
        backend = VaultBackend("vault-console", vault_config(openbao, kv_prefix=kv_prefix, **approle))
        items = list(backend.iter_secrets())
        assert not [item for item in items if isinstance(item, ListingProblem)]
        assert not [item for item in items if item.details.get("problems")], "lease counting is allowed too"
        backend.write_metadata(f"secret/{kv_prefix}/app/key", {"owner": "identity"})
        created = backend.create_secret(f"secret/{kv_prefix}/app/new", kind="api_key", metadata=META)
        assert created.metadata["owner"] == "payments"
        meta = root.secrets.kv.v2.read_secret_metadata(f"{kv_prefix}/app/key")["data"]["custom_metadata"]
        assert meta["owner"] == "identity"

    def test_an_expired_approle_token_is_replaced_by_logging_in_again(self, openbao, root, kv_prefix):
        role = f"short-{uuid.uuid4().hex[:6]}"
        root.auth.approle.create_or_update_approle(role, token_policies=[CONSOLE_POLICY], token_ttl="2s",
                                                   token_max_ttl="2s")  # fmt: skip
        creds = {
            "token": None,
            "role_id": root.auth.approle.read_role_id(role)["data"]["role_id"],
            "secret_id": root.auth.approle.generate_secret_id(role)["data"]["secret_id"],
        }
        root.secrets.kv.v2.create_or_update_secret(f"{kv_prefix}/k", secret={"value": "v"})
        backend = VaultBackend(
            "vault-short", vault_config(openbao, kv_prefix=kv_prefix, engines="kv", **creds)
        )
        assert backend.describe(f"secret/{kv_prefix}/k").name == "k"
        time.sleep(3)
        assert backend.describe(f"secret/{kv_prefix}/k").name == "k"

    def test_a_revoked_approle_token_is_replaced_but_a_denial_stays_a_denial(
        self, openbao, root, approle, kv_prefix
    ):
        root.secrets.kv.v2.create_or_update_secret(f"{kv_prefix}/k", secret={"value": "v"})
        backend = VaultBackend(
            "vault-revoked", vault_config(openbao, kv_prefix=kv_prefix, engines="kv", **approle)
        )
        assert backend.describe(f"secret/{kv_prefix}/k").name == "k"
        first = backend.client.token
        root.auth.token.revoke(first)
        assert backend.describe(f"secret/{kv_prefix}/k").name == "k"
        second = backend.client.token
        assert second != first
        with pytest.raises(BackendError, match="permission denied") as caught:
            backend._call("GET", "sys/policies/acl/default", "read a policy we may not read")
        assert caught.value.permanent
        assert backend.client.token == second, "a denial by policy does not log in again"
