"""Grant tokens in OpenBao/Vault: a policy for exactly the approved paths, an orphan token under
it, revoke by accessor. Goes through vault.py's client helpers (`_call`), so hvac stays there.

Paths in the inventory's terms map to what a token needs:
  - a KV v2 key `<kv>/<key>`            -> read on `<kv>/data/<key>`
  - a database role `<db>/roles/<name>` -> read on `<db>/creds/<name>`
  - a static role `<db>/static-roles/<name>` -> read on `<db>/static-creds/<name>`
"""

from dataclasses import dataclass

from secrets_admin.backends.base import BackendError

POLICY_PREFIX = "candlefish-grant-"  # the console's own policy may write only these


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
    raise BackendError(
        f"{path}: only KV keys and database roles can be granted",
        permanent=True,
        backend=backend.name,
        reason="not grantable",
    )


def policy_text(backend, paths: list[str]) -> str:
    """HCL: read on exactly what the approved paths need, nothing else."""
    lines = []
    for path in sorted(paths):
        for api_path in grant_paths(backend, path):
            if any(ch in api_path for ch in '"*+\n'):
                raise BackendError(
                    f"{path}: not a plain path", permanent=True, backend=backend.name, reason="not a path"
                )
            lines.append(f'path "{api_path}" {{ capabilities = ["read"] }}')
    return "\n".join(lines) + "\n"


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
