"""OpenBao's database and PKI engines, as rotation needs them.

Through the adapter's own call helpers (`backend._call`, `_data`, `_list`), so hvac stays in
vault.py alone and every error is the adapter's BackendError. Functions that return a credential
or a private key say so; the caller keeps it in memory for one step and drops it.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from secrets_admin.backends import metadata as md
from secrets_admin.backends.base import BackendError
from secrets_admin.backends.postgres_target import PostgresTarget

MAX_LEASE_TTL = timedelta(days=7)  # the dynamic-credential policy: no lease outlives a week
RUN_URI = "urn:candlefish-run:"  # a replacement certificate names its run in a URI SAN


# --- the database engine: configuration -----------------------------------------------------
def configure_connection(
    backend, name, target: PostgresTarget, *, root_user, root_password, allowed_roles, username_template
):
    """Create or update the connection `name` to `target`, logging in as `root_user`
    (who should then be rotated with rotate_root, so only OpenBao knows its password)."""
    db = backend.mounts["database"]
    url = (
        f"postgresql://{{{{username}}}}:{{{{password}}}}@{target.host}:{target.port}/"
        f"{target.database}?sslmode=disable"
    )
    body = {
        "plugin_name": "postgresql-database-plugin",
        "connection_url": url,
        "username": root_user,
        "password": root_password,
        "allowed_roles": list(allowed_roles),
        "username_template": username_template,
        "verify_connection": True,
    }
    backend._call("POST", f"{db}/config/{name}", f"configure connection {name}", json=body)


def create_dynamic_role(backend, name, *, connection, database, default_ttl="1h", max_ttl="24h"):
    """A role whose every lease is a fresh login that expires with it (and is dropped on revoke)."""
    db = backend.mounts["database"]
    body = {
        "db_name": connection,
        "default_ttl": default_ttl,
        "max_ttl": max_ttl,
        "creation_statements": [
            "CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';",
            f'GRANT CONNECT ON DATABASE "{database}" TO "{{{{name}}}}";',
        ],
        # The CONNECT grant would block DROP ROLE; the connection's login owns the database.
        "revocation_statements": [
            f'REVOKE ALL ON DATABASE "{database}" FROM "{{{{name}}}}";',
            'DROP ROLE IF EXISTS "{{name}}";',
        ],
    }
    backend._call("POST", f"{db}/roles/{name}", f"write dynamic role {name}", json=body)


def create_static_role(backend, name, *, connection, username, rotation_period=7 * 86400):
    """A static role: OpenBao owns `username`'s password and rotates it (created once: OpenBao
    refuses to change a static role's username)."""
    db = backend.mounts["database"]
    existing = _read_or_none(backend, f"{db}/static-roles/{name}")
    if existing is not None:
        if existing.get("username") != username:
            raise BackendError(
                f"static role {name} already manages another login",
                permanent=True,
                backend=backend.name,
                reason="refused input",
            )
        return
    body = {
        "db_name": connection,
        "username": username,
        "rotation_period": rotation_period,
        "rotation_statements": ["ALTER ROLE \"{{name}}\" WITH PASSWORD '{{password}}';"],
    }
    backend._call("POST", f"{db}/static-roles/{name}", f"write static role {name}", json=body)


# --- the database engine: rotation ----------------------------------------------------------
def static_role(backend, name) -> dict:
    """The static role's definition and rotation facts (no password): username, db_name,
    last_vault_rotation (datetime or None), rotation_period."""
    db = backend.mounts["database"]
    data = backend._data(f"{db}/static-roles/{name}", f"read static role {name}")
    return {**data, "last_vault_rotation": md.parse_time(data.get("last_vault_rotation"))}


def rotate_role(backend, name) -> None:
    db = backend.mounts["database"]
    backend._call("POST", f"{db}/rotate-role/{name}", f"rotate static role {name}")


def static_credentials(backend, name) -> tuple[str, str, datetime | None]:
    """(username, password, last_vault_rotation) — the password is a value: memory only."""
    db = backend.mounts["database"]
    data = backend._data(f"{db}/static-creds/{name}", f"read static credentials of {name}")
    return data["username"], data["password"], md.parse_time(data.get("last_vault_rotation"))


def connection(backend, name) -> dict:
    db = backend.mounts["database"]
    return backend._data(f"{db}/config/{name}", f"read connection {name}")


def connection_target(backend, name) -> PostgresTarget:
    """Where connection `name` points (host, port, database from its connection_url)."""
    url = (connection(backend, name).get("connection_details") or {}).get("connection_url", "")
    parts = urlsplit(url.replace("{{username}}:{{password}}@", ""))
    if not parts.hostname or not parts.path.strip("/"):
        raise BackendError(
            f"connection {name} has no PostgreSQL URL the console can read",
            permanent=True,
            backend=backend.name,
            reason="refused input",
        )
    return PostgresTarget(name, parts.hostname, parts.port or 5432, parts.path.strip("/"))


def rotate_root(backend, name) -> None:
    """OpenBao sets a new password for the connection's root login; only OpenBao knows it."""
    db = backend.mounts["database"]
    backend._call("POST", f"{db}/rotate-root/{name}", f"rotate the root credential of {name}")


def is_dynamic_role(backend, name) -> bool:
    db = backend.mounts["database"]
    return _read_or_none(backend, f"{db}/roles/{name}") is not None


def dynamic_credentials(backend, role) -> tuple[str, str, str]:
    """(lease_id, username, password) of a new lease — the password is a value: memory only."""
    db = backend.mounts["database"]
    response = backend._call("GET", f"{db}/creds/{role}", f"issue credentials of {role}")
    return response["lease_id"], response["data"]["username"], response["data"]["password"]


# --- leases ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Lease:
    lease_id: str
    role: str
    issued_at: datetime | None
    expires_at: datetime | None
    ttl_seconds: int
    role_exists: bool

    @property
    def orphaned(self) -> bool:
        """Its role is gone from OpenBao: nobody manages or renews it, and nothing will issue
        its like again. It still works until it expires, so the security team revokes it."""
        return not self.role_exists

    @property
    def too_long(self) -> bool:
        if self.expires_at is None:
            return True
        return self.expires_at - (self.issued_at or datetime.now(UTC)) > MAX_LEASE_TTL + timedelta(minutes=1)


def list_leases(backend) -> list[Lease]:
    """Every outstanding database-engine lease, with its TTL; needs sudo on sys/leases."""
    db = backend.mounts["database"]
    roles = {name.rstrip("/") for name in backend._list(f"{db}/roles", "list dynamic roles")}
    leases = []
    prefix = f"sys/leases/lookup/{db}/creds/"
    for folder in sorted(backend._list(prefix, "list lease roles")):
        role = folder.rstrip("/")
        for key in sorted(backend._list(f"{prefix}{role}/", f"list leases of {role}")):
            lease_id = f"{db}/creds/{role}/{key}"
            data = backend._call(
                "PUT", "sys/leases/lookup", f"look up lease of {role}", json={"lease_id": lease_id}
            )["data"]
            leases.append(
                Lease(
                    lease_id=lease_id,
                    role=role,
                    issued_at=md.parse_time(data.get("issue_time")),
                    expires_at=md.parse_time(data.get("expire_time")),
                    ttl_seconds=int(data.get("ttl") or 0),
                    role_exists=role in roles,
                )
            )
    return leases


def revoke_lease(backend, lease_id: str) -> None:
    """Revoke one database lease (OpenBao drops its login on the target). Idempotent: a lease
    that is already gone is not an error."""
    db = backend.mounts["database"]
    if not lease_id.startswith(f"{db}/creds/"):
        raise BackendError(
            "only database-engine leases are revoked here",
            permanent=True,
            backend=backend.name,
            reason="refused input",
        )
    backend._call("PUT", "sys/leases/revoke", "revoke lease", json={"lease_id": lease_id})


# --- PKI ------------------------------------------------------------------------------------
def certificate_facts(backend, serial) -> dict:
    """Common name, alternative names, not-before/not-after of a certificate (no key)."""
    from cryptography import x509

    pki = backend.mounts["pki"]
    pem = backend._data(f"{pki}/cert/{serial}", f"read certificate {serial}")["certificate"]
    cert = x509.load_pem_x509_certificate(pem.encode())
    names = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns = san.get_values_for_type(x509.DNSName)
        uris = san.get_values_for_type(x509.UniformResourceIdentifier)
    except x509.ExtensionNotFound:
        dns, uris = [], []
    return {
        "serial": serial,
        "common_name": names[0].value if names else "",
        "dns_names": dns,
        "uris": uris,
        "not_before": cert.not_valid_before_utc,
        "not_after": cert.not_valid_after_utc,
    }


def certificate_revoked(backend, serial) -> bool:
    pki = backend.mounts["pki"]
    data = backend._data(f"{pki}/cert/{serial}", f"read certificate {serial}")
    return bool(data.get("revocation_time"))


def signed_by_issuer(backend, serial) -> bool:
    """Did the mount's default issuer sign certificate `serial`? (its signature checks out)"""
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature

    pki = backend.mounts["pki"]
    leaf = x509.load_pem_x509_certificate(
        backend._data(f"{pki}/cert/{serial}", f"read certificate {serial}")["certificate"].encode()
    )
    issuer = x509.load_pem_x509_certificate(
        backend._data(f"{pki}/cert/ca", "read the issuer")["certificate"].encode()
    )
    try:
        leaf.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def find_replacement(backend, common_name: str, token: str) -> str | None:
    """The serial of a certificate already issued for run `token` (its URI SAN), or None."""
    pki, wanted = backend.mounts["pki"], RUN_URI + token
    for serial in backend._list(f"{pki}/certs", "list certificates"):
        facts = certificate_facts(backend, serial)
        if facts["common_name"] == common_name and wanted in facts["uris"]:
            return serial
    return None


def issue_replacement(backend, facts: dict, token: str, *, role="candlefish") -> str:
    """Issue a certificate for the same names and lifetime as `facts`, marked with run `token`;
    returns its serial. The private key in the answer is dropped here: the console never keeps
    one (consumers re-issue from OpenBao or read the replacement from their own store)."""
    pki = backend.mounts["pki"]
    lifetime = facts["not_after"] - facts["not_before"]
    body = {
        "common_name": facts["common_name"],
        "alt_names": ",".join(name for name in facts["dns_names"] if name != facts["common_name"]),
        "uri_sans": RUN_URI + token,
        "ttl": f"{max(3600, int(lifetime.total_seconds()))}s",
    }
    doing = f"issue a replacement for {facts['serial']}"
    response = backend._call("POST", f"{pki}/issue/{role}", doing, json=body)
    serial = response["data"]["serial_number"]
    del response  # holds the private key
    return serial


def _read_or_none(backend, path):
    try:
        return backend._data(path, f"read {path}")
    except BackendError as exc:
        if exc.reason == "not found" or "not found" in str(exc):
            return None
        raise
