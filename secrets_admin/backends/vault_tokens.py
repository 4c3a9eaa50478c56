"""Grant tokens in OpenBao/Vault: a policy for exactly the approved paths, an orphan token under
it, revoke by accessor. Goes through vault.py's client helpers (`_call`), so hvac stays there.

Paths in the inventory's terms map to what a token needs:
  - a KV v2 key `<kv>/<key>`            -> read on `<kv>/data/<key>`
  - a database role `<db>/roles/<name>` -> read on `<db>/creds/<name>`
  - a static role `<db>/static-roles/<name>` -> read on `<db>/static-creds/<name>`
  - a certificate `<pki>/cert/<serial>`  -> update on `<pki>/issue/candlefish-grant`, allowed only
    the certificate's own names and `not_after` = the grant's end (see `certificate_stanza`)

A certificate's private key is not stored anywhere in OpenBao, so "access to a certificate" is the
power to obtain a valid one for the same names: a fresh key and certificate from the grant role,
which expires when the grant does and is revoked with the token (the role attaches a lease to
every certificate, and revoking a token revokes its leases).
"""

from dataclasses import dataclass
from datetime import UTC

from secrets_admin.backends.base import BackendError

POLICY_PREFIX = "candlefish-grant-"  # the console's own policy may write only these
PKI_ROLE = "candlefish-grant"  # setup_vault writes it: any name, a lease on each certificate
PKI_ROLE_BODY = {
    "allow_any_name": True,  # the grant's policy pins the names, not the role
    "generate_lease": True,  # revoking the grant's token revokes what it issued
    "max_ttl": "25h",  # the longest grant (24 h) and a margin; `not_after` bounds each one
    "key_type": "ec",
    "key_bits": 256,
}


@dataclass(frozen=True)
class IssuedToken:
    token: str  # handed to the caller once; never logged, never stored in clear
    accessor: str
    ttl: int

    def __repr__(self):  # a traceback or a debug print must not show the token
        return f"IssuedToken(accessor={self.accessor!r}, ttl={self.ttl})"


def grant_paths(backend, path: str) -> list[str]:
    """The OpenBao API paths a token needs to use inventory path `path`. BackendError
    (permanent, reason "not grantable") for anything else."""
    engine, rest = backend._split(path)
    mounts = backend.mounts
    if engine == "kv" and not rest.endswith("/"):
        return [f"{mounts['kv']}/data/{rest}"]
    if engine == "database":
        kind, _, name = rest.partition("/")
        if name and "/" not in name and kind == "roles":
            return [f"{mounts['database']}/creds/{name}"]
        if name and "/" not in name and kind == "static-roles":
            return [f"{mounts['database']}/static-creds/{name}"]
    if engine == "pki":
        return [f"{mounts['pki']}/issue/{PKI_ROLE}"]
    raise BackendError(
        f"{path}: only KV keys, database roles and certificates can be granted",
        permanent=True,
        backend=backend.name,
        reason="not grantable",
    )


def policy_text(backend, paths: list[str], *, names: dict | None = None, until=None) -> str:
    """HCL: read on exactly what the approved paths need, nothing else. A certificate's path
    needs `names` ({path: [common name, other DNS names...]}) and `until` (the grant's end)."""
    lines, certificates = [], {}
    for path in sorted(paths):
        for api_path in grant_paths(backend, path):
            _plain(backend, path, api_path)
            if api_path.endswith(f"/issue/{PKI_ROLE}"):
                certificates.setdefault(api_path, []).append((names or {}).get(path) or [])
            else:
                lines.append(f'path "{api_path}" {{ capabilities = ["read"] }}')
    for api_path, name_lists in certificates.items():
        lines.append(certificate_stanza(backend, api_path, name_lists, until))
    return "\n".join(lines) + "\n"


def not_after(until) -> str:
    """The `not_after` value a grant's certificates must carry (OpenBao's format)."""
    return until.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def certificate_stanza(backend, api_path: str, name_lists: list[list[str]], until) -> str:
    """Issue from the grant role, only with these certificates' names and `not_after` = the
    grant's end: any other parameter (a ttl, another name, an IP SAN) is refused by OpenBao."""
    if until is None or not all(name_lists):
        raise BackendError(
            "a certificate grant needs the certificate's names and the grant's end",
            permanent=True,
            backend=backend.name,
            reason="not grantable",
        )
    common = sorted({names[0] for names in name_lists})
    alt = sorted({",".join(names[1:]) for names in name_lists if names[1:]})
    for value in (*common, *alt):
        _plain(backend, value, value)
    allowed = [
        f"    common_name = {_hcl_list(common)}",
        f'    not_after = ["{not_after(until)}"]',
        '    format = ["pem"]',
        '    private_key_format = ["pem", "pkcs8"]',
    ]
    if alt:
        allowed.append(f"    alt_names = {_hcl_list(alt)}")
    return (
        f'path "{api_path}" {{\n  capabilities = ["update"]\n'
        '  required_parameters = ["common_name", "not_after"]\n'
        "  allowed_parameters = {\n" + "\n".join(allowed) + "\n  }\n}"
    )


def _hcl_list(values) -> str:
    return "[" + ", ".join(f'"{v}"' for v in values) + "]"


def _plain(backend, path: str, value: str) -> None:
    if any(ch in value for ch in '"*+\n\\{}$'):
        raise BackendError(
            f"{path}: not a plain path", permanent=True, backend=backend.name, reason="not a path"
        )


def write_policy(backend, name: str, text: str) -> None:
    _check_name(backend, name)
    backend._call("PUT", f"sys/policies/acl/{name}", f"write policy {name}", json={"policy": text})


def delete_policy(backend, name: str) -> None:
    _check_name(backend, name)
    backend._call("DELETE", f"sys/policies/acl/{name}", f"delete policy {name}")


def create_token(
    backend, *, policy: str, seconds: int, metadata: dict[str, str], display_name: str
) -> IssuedToken:
    """An orphan token with exactly `policy` (no default policy), ttl = explicit_max_ttl =
    `seconds`, not renewable. Orphan: it must not die with the console's own AppRole token."""
    _check_name(backend, policy)
    body = {
        "policies": [policy],
        "no_default_policy": True,
        "no_parent": True,
        "renewable": False,
        "ttl": f"{int(seconds)}s",
        "explicit_max_ttl": f"{int(seconds)}s",
        "display_name": display_name[:100],
        "meta": {k: str(v) for k, v in metadata.items()},
        "num_uses": 0,
    }
    response = backend._call("POST", "auth/token/create", f"create a token under {policy}", json=body)
    auth = (response or {}).get("auth") or {}
    if not auth.get("client_token") or not auth.get("accessor"):
        raise BackendError("token create: no token in the answer", permanent=False, backend=backend.name)
    return IssuedToken(auth["client_token"], auth["accessor"], int(auth.get("lease_duration") or 0))


def lookup_accessor(backend, accessor: str) -> dict | None:
    """The token's data (policies, ttl, meta) by accessor; None once it is gone."""
    try:
        response = backend._call(
            "POST", "auth/token/lookup-accessor", "look up a grant token", json={"accessor": accessor}
        )
    except BackendError as exc:
        if _gone(exc):
            return None
        raise
    return (response or {}).get("data")


def find_accessors(backend, meta: dict[str, str]) -> list[str]:
    """Accessors of the live tokens whose metadata holds every `meta` item: how a token minted
    but never recorded (the process died in between) is found. LIST auth/token/accessors needs
    sudo and each token costs a lookup, so this is the reconciler's rare path, never a page's."""
    found = []
    for accessor in backend._list("auth/token/accessors", "list token accessors"):
        data = lookup_accessor(backend, accessor)
        token_meta = (data or {}).get("meta") or {}
        if all(token_meta.get(key) == value for key, value in meta.items()):
            found.append(accessor)
    return found


def revoke_accessor(backend, accessor: str) -> None:
    """Revoke by accessor; a token already gone counts as revoked (idempotent)."""
    try:
        backend._call(
            "POST", "auth/token/revoke-accessor", "revoke a grant token", json={"accessor": accessor}
        )
    except BackendError as exc:
        if not _gone(exc):
            raise


def _gone(exc: BackendError) -> bool:
    text = str(exc).lower()
    return exc.permanent and (
        "invalid accessor" in text or "not found" in text or "bad token" in text or "invalid request" in text
    )


def _check_name(backend, name: str) -> None:
    if not name.startswith(POLICY_PREFIX) or not name.replace("-", "").isalnum():
        raise BackendError(f"{name!r} is not a grant policy name", permanent=True, backend=backend.name)
