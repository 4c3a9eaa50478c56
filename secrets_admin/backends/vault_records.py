"""OpenBao/Vault API responses -> RemoteSecret. Pure functions, no network, no hvac.

Inputs are the `data` parts of metadata/config/role responses, which never hold a secret value
(KV `metadata/` endpoints, `pki/cert/<serial>` certificates, database role definitions).
"""

import re

from cryptography import x509
from cryptography.x509.oid import NameOID

from secrets_admin.backends import metadata as md
from secrets_admin.backends.base import RemoteSecret, RemoteVersion

DAY = 86400


def kv_secret(backend: str, path: str, data: dict) -> RemoteSecret:
    """`path` is "<mount>/<key>"; `data` is a KV v2 `metadata/<key>` response's data."""
    metadata, tags, problems = md.split(data.get("custom_metadata"))
    current = int(data.get("current_version") or 0)
    run = tags.get(md.RUN_KEY, "")
    versions = []
    for number, info in sorted((data.get("versions") or {}).items(), key=lambda item: int(item[0])):
        versions.append(
            RemoteVersion(
                version_id=str(number),
                created_at=md.parse_time(info.get("created_time")),
                current=int(number) == current,
                deprecated=bool(info.get("deletion_time")),
                destroyed=bool(info.get("destroyed")),
                created_by=run if int(number) == current else "",
            )
        )
    current_version = next((v for v in versions if v.current), None)
    details = {"current_version": current, "max_versions": data.get("max_versions", 0)}
    if data.get("cas_required"):
        details["cas_required"] = True
    if problems:
        details["problems"] = problems
    return RemoteSecret(
        backend=backend,
        path=path,
        name=path.rstrip("/").rsplit("/", 1)[-1],
        kind=md.kind_of(metadata),
        created_at=md.parse_time(data.get("created_time")),
        updated_at=md.parse_time(data.get("updated_time")),
        # The value's age: when the current version was written (creation counts as the first set).
        last_rotated=current_version.created_at if current_version else None,
        metadata=metadata,
        tags=tags,
        versions=tuple(versions),
        rotation={"enabled": False},
        details=details,
    )


def _name_attr(name: x509.Name, oid) -> str:
    values = name.get_attributes_for_oid(oid)
    return str(values[0].value) if values else ""


def pki_secret(backend: str, path: str, serial: str, data: dict) -> RemoteSecret:
    """`data` is a `pki/cert/<serial>` response's data: the PEM certificate (never a key)."""
    cert = x509.load_pem_x509_certificate(data["certificate"].encode())
    common_name = _name_attr(cert.subject, NameOID.COMMON_NAME)
    revoked_at = md.parse_time(data.get("revocation_time_rfc3339")) if data.get("revocation_time") else None
    try:
        basic = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
        is_ca = bool(basic.ca)
    except x509.ExtensionNotFound:
        is_ca = False
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns_names = sans.get_values_for_type(x509.DNSName)
    except x509.ExtensionNotFound:
        dns_names = []
    not_before, not_after = cert.not_valid_before_utc, cert.not_valid_after_utc
    details = {
        "serial": serial,
        "subject": cert.subject.rfc4514_string(),
        "common_name": common_name,
        "issuer": cert.issuer.rfc4514_string(),
        "not_before": not_before.isoformat(),
        "not_after": not_after.isoformat(),
        "dns_names": list(dns_names)[:20],
        "is_ca": is_ca,
        "revoked": revoked_at is not None,
    }
    if revoked_at:
        details["revoked_at"] = revoked_at.isoformat()
    return RemoteSecret(
        backend=backend,
        path=path,
        name=common_name or serial,
        kind="certificate",
        created_at=not_before,
        updated_at=not_before,
        last_rotated=not_before,
        expires_at=not_after,
        versions=(RemoteVersion(version_id=serial, created_at=not_before, current=revoked_at is None),),
        rotation={"enabled": False, "ttl": int((not_after - not_before).total_seconds())},
        details=details,
    )


def safe_url(url: str) -> str:
    """A connection URL without any literal password (templated {{password}} is kept)."""
    return re.sub(r"(://[^:/@]*:)(?!\{\{password\}\})[^@]*@", r"\1***@", url or "")


def db_connection(backend: str, path: str, name: str, data: dict) -> RemoteSecret:
    """`data` is a `database/config/<name>` response's data (OpenBao never returns the password)."""
    conn = data.get("connection_details") or {}
    details = {
        "object": "connection",
        "plugin": data.get("plugin_name", ""),
        "connection_url": safe_url(conn.get("connection_url", "")),
        "username": conn.get("username", ""),
        "allowed_roles": list(data.get("allowed_roles") or []),
    }
    rotation = {
        "enabled": False,
        "root_rotation_statements": bool(data.get("root_credentials_rotate_statements")),
    }
    return RemoteSecret(
        backend=backend, path=path, name=name, kind="database",
        created_at=None, updated_at=None, last_rotated=None, rotation=rotation, details=details,
    )  # fmt: skip


def db_role(backend: str, path: str, name: str, data: dict, leases: int | None, problems=()) -> RemoteSecret:
    """A dynamic role (`database/roles/<name>`): credentials are minted per lease."""
    details = {
        "object": "role",
        "role_type": "dynamic",
        "connection": data.get("db_name", ""),
        "credential_type": data.get("credential_type", "password"),
        "outstanding_leases": leases,
    }
    if problems:
        details["problems"] = list(problems)
    default_ttl, max_ttl = int(data.get("default_ttl") or 0), int(data.get("max_ttl") or 0)
    return RemoteSecret(
        backend=backend, path=path, name=name, kind="database",
        created_at=None, updated_at=None, last_rotated=None,
        rotation={"enabled": True, "dynamic": True, "ttl": default_ttl, "max_ttl": max_ttl},
        details=details,
    )  # fmt: skip


def db_static_role(backend: str, path: str, name: str, data: dict) -> RemoteSecret:
    """A static role (`database/static-roles/<name>`): one database user rotated by OpenBao."""
    last = md.parse_time(data.get("last_vault_rotation"))
    period = int(data.get("rotation_period") or 0)
    details = {
        "object": "static-role",
        "role_type": "static",
        "connection": data.get("db_name", ""),
        "username": data.get("username", ""),
        "credential_type": data.get("credential_type", "password"),
    }
    rotation = {
        "enabled": bool(period),
        "rotation_period": period,
        "interval_days": period // DAY if period else 0,
    }
    if data.get("rotation_schedule"):
        rotation["schedule"] = data["rotation_schedule"]
    if last:
        rotation["last_vault_rotation"] = last.isoformat()
    versions = (RemoteVersion(version_id=last.isoformat(), created_at=last, current=True),) if last else ()
    return RemoteSecret(
        backend=backend, path=path, name=name, kind="database",
        created_at=None, updated_at=last, last_rotated=last,
        rotation=rotation, versions=versions, details=details,
    )  # fmt: skip
