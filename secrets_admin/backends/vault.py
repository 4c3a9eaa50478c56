"""OpenBao / HashiCorp Vault adapter (hvac). The only module that imports hvac.

Inventory reads only metadata: KV v2 `metadata/` endpoints, PKI certificates (`pki/cert/<serial>`,
never a key), database connection/role definitions and lease counts; the walk over them is
vault_walk.py, this module holds the client, the calls, paths and writes. Paths the adapter hands out:
`<kv>/<key>`, `<pki>/cert/<serial>`, `<db>/config/<name>`, `<db>/roles/<name>`,
`<db>/static-roles/<name>`.

Config keys beyond the connection: `kv_mount`, `pki_mount`, `database_mount`; `kv_prefix` (walk
only this folder of the KV mount); `engines` (which of kv, pki, database to walk; default all);
`workers` (metadata reads in flight during a walk, default 8).
"""

import logging
import threading
import time
from urllib.parse import quote

import hvac
import hvac.exceptions
import hvac.utils
import hvac.v1
import requests

from secrets_admin.backends import metadata as md
from secrets_admin.backends import passwords, paths, vault_http, vault_values
from secrets_admin.backends.base import BackendError, RemoteSecret, SecretBackend, translated
from secrets_admin.backends.vault_walk import VaultWalk

log = logging.getLogger(__name__)
ENGINES = ("kv", "pki", "database")
VALUE_KEY = "value"  # create_secret stores {"value": <generated>} in the KV data

CONSOLE_POLICY = "candlefish-console"

# Retrying cannot fix these: the request itself is wrong or not allowed.
_PERMANENT = (hvac.exceptions.Forbidden, hvac.exceptions.InvalidPath, hvac.exceptions.InvalidRequest)


def session(config: dict) -> requests.Session:
    """The HTTP session of a client: CA verification from the config (`ca_cert`, else the
    system bundle), and with `trust_env` off (the default) nothing from the process environment:
    a secrets console should not send its token through whatever proxy HTTPS_PROXY names, nor
    take credentials from .netrc. It also spares every request requests' per-call scan of the
    environment (proxy variables, NO_PROXY matching, a .netrc lookup)."""
    http = requests.Session()
    http.trust_env = bool(config.get("trust_env", False))
    http.verify = config.get("ca_cert") or True  # hvac takes the session's verify over its own
    return http


class VaultBackend(VaultWalk, SecretBackend):
    kind = "vault"
    values = vault_values  # rotation values: KV v2 staging, check-and-set promote

    def __init__(self, name, config):
        super().__init__(name, config)
        self._local = threading.local()  # requests sessions are not shared across threads
        self._login_lock = threading.Lock()
        self._approle_token = None  # one AppRole login shared by every thread's client
        self._approle_renew_at = 0.0
        self._wire = vault_http.Wire(
            config,
            raise_for_error=hvac.utils.raise_for_error,
            client_cert=(hvac.v1.VAULT_CLIENT_CERT, hvac.v1.VAULT_CLIENT_KEY),  # as hvac.Client takes it
        )

    @property
    def client(self) -> hvac.Client:
        token = self.config.get("token") or self._approle_login()
        client = getattr(self._local, "client", None)
        if client is None or client.token != token:
            client = hvac.Client(
                url=self.config["url"],
                token=token,
                namespace=self.config.get("namespace"),
                timeout=self.config.get("timeout", 5),
                session=session(self.config),
            )
            self._local.client = client
        return client

    def _approle_login(self) -> str:
        """The shared AppRole token, logging in when there is none or it is about to expire."""
        with self._login_lock:
            if not self._approle_token or time.monotonic() > self._approle_renew_at:
                login = hvac.Client(
                    url=self.config["url"],
                    namespace=self.config.get("namespace"),
                    timeout=self.config.get("timeout", 5),
                    session=session(self.config),
                )
                with self.errors("AppRole login"):
                    auth = login.auth.approle.login(
                        self.config["role_id"], self.config["secret_id"], use_token=False
                    )
                ttl = auth["auth"].get("lease_duration") or 3600
                self._approle_token = auth["auth"]["client_token"]
                self._approle_renew_at = time.monotonic() + ttl - min(60, ttl / 10)
            return self._approle_token

    def _token_revoked(self) -> bool:
        """After a 403: is it our AppRole token that is gone (revoked, expired early)?"""
        if self.config.get("token"):
            return False
        try:
            self.client.auth.token.lookup_self()
        except hvac.exceptions.Forbidden:
            with self._login_lock:
                self._approle_token = None
            return True
        return False

    def errors(self, doing: str):
        return translated(self.name, doing, _classify, _explain)

    @staticmethod
    def not_found(exc: BackendError) -> bool:
        """Did OpenBao answer 404 (rather than refuse, fail or not answer)?"""
        return isinstance(exc.__cause__, hvac.exceptions.InvalidPath)

    # --- low-level calls -------------------------------------------------------------------
    def _call(self, method: str, path: str, doing: str, **kwargs):
        """One API call; an AppRole token that was revoked is replaced by logging in once more."""
        url = "/v1/" + quote(paths.request_path(self.name, path), safe="/:@-._~")
        with self.errors(doing):
            try:
                return self._send(method, url, kwargs)
            except hvac.exceptions.Forbidden:
                if not self._token_revoked():
                    raise  # a real denial by policy
                return self._send(method, url, kwargs)

    def _send(self, method: str, url: str, kwargs: dict):
        """On vault_http's pool; through hvac's client (requests) when the connection trusts the
        environment (proxies, .netrc), which only requests honours. JSON of a 200 either way."""
        if self.config.get("trust_env"):
            return self.client.adapter.request(method, url, **kwargs)
        token = self.config.get("token") or self._approle_login()
        return self._wire.request(method, url, token, **kwargs)

    def _data(self, path: str, doing: str) -> dict:
        response = self._call("GET", path, doing)
        if not isinstance(response, dict) or response.get("data") is None:
            raise BackendError(f"{doing}: not found", permanent=True, backend=self.name, reason="not found")
        return response["data"]

    def _list(self, path: str, doing: str) -> list[str]:
        """LIST keys; an empty folder (404) is []; a mount that does not exist is an error."""
        try:
            response = self._call("LIST", path, doing)
        except BackendError as exc:
            cause = exc.__cause__
            if isinstance(cause, hvac.exceptions.InvalidPath) and "no handler for route" not in str(cause):
                return []
            raise
        return list((response or {}).get("data", {}).get("keys") or [])

    @property
    def mounts(self) -> dict[str, str]:
        return {
            "kv": self.config.get("kv_mount") or "secret",
            "pki": self.config.get("pki_mount") or "pki",
            "database": self.config.get("database_mount") or "database",
        }

    def engines(self) -> tuple[str, ...]:
        wanted = self.config.get("engines") or ENGINES
        if isinstance(wanted, str):
            wanted = [part.strip() for part in wanted.split(",")]
        return tuple(engine for engine in ENGINES if engine in wanted)

    def _split(self, path: str) -> tuple[str, str]:
        """ "secret/a/b" -> ("kv", "a/b"): the engine and the rest, for a path a person may have
        typed. BackendError(reason="refused input") before any call for anything that is not a
        plain path under one of this backend's mounts, in the shape its engine uses."""
        parts = paths.parts(self.name, path)
        mount, rest = parts[0], "/".join(parts[1:])
        engine = next((engine for engine, name in self.mounts.items() if name == mount), None)
        if engine is None:
            known = ", ".join(f"{name}/ ({engine})" for engine, name in self.mounts.items())
            raise paths.refused(self.name, f"a path must start with one of this backend's mounts: {known}")
        if engine == "kv" and not rest:
            raise paths.refused(self.name, f"name a key under {mount}/, such as {mount}/payments/api-key")
        if engine == "pki" and (len(parts) != 3 or parts[1] != "cert"):
            raise paths.refused(self.name, f"a certificate's path is {mount}/cert/<serial>")
        if engine == "database" and (len(parts) != 3 or parts[1] not in ("config", "roles", "static-roles")):
            raise paths.refused(
                self.name, f"a database object's path is {mount}/config|roles|static-roles/<name>"
            )
        return engine, rest

    def check_path(self, path: str, *, creating: bool = False) -> None:
        engine, _rest = self._split(path)
        if creating and engine != "kv":
            raise paths.refused(self.name, f"new secrets can only be KV keys, under {self.mounts['kv']}/")

    # --- the adapter contract (iter_secrets and describe: vault_walk.py) -----------------------
    def writable_metadata(self, path: str) -> bool:
        try:
            return self._split(path)[0] == "kv"
        except BackendError:
            return False

    def write_metadata(self, path: str, metadata: dict[str, str]) -> None:
        """Merge into the key's custom_metadata (JSON merge patch: other keys stay; an empty
        value removes the key). Only KV keys carry metadata; PKI/database are read-only."""
        engine, rest = self._split(path)
        if engine != "kv":
            raise BackendError(
                f"{path}: {engine} objects are read-only here",
                permanent=True,
                backend=self.name,
                reason="read-only",
            )
        md.check_update(self.name, metadata, max_key=128, max_value=512)
        patch = {key: (value or None) for key, value in metadata.items()}
        self._call(
            "PATCH",
            f"{self.mounts['kv']}/metadata/{rest}",
            f"write metadata of {path}",
            json={"custom_metadata": patch},
            headers={"Content-Type": "application/merge-patch+json"},
        )

    def write_anchor(self, path: str, document: dict) -> int:
        """Write `document` as a new version of the KV v2 secret `path` ("<mount>/<key>", a mount
        of its own that the inventory does not walk); returns the version number written."""
        mount, _, key = path.strip("/").partition("/")
        response = self._call(
            "POST", f"{mount}/data/{key}", f"write audit anchor {path}", json={"data": document}
        )
        return int(response["data"]["version"])

    def read_anchor(self, path: str, version: int | None = None) -> tuple[dict, int] | None:
        """(document, version) of the newest version of `path` (or of `version`, for evidence
        exports); None if it was never written."""
        mount, _, key = path.strip("/").partition("/")
        params = {"version": int(version)} if version else None
        try:
            response = self._call("GET", f"{mount}/data/{key}", f"read audit anchor {path}", params=params)
        except BackendError as exc:
            cause = exc.__cause__
            if isinstance(cause, hvac.exceptions.InvalidPath) and "no handler for route" not in str(cause):
                return None
            raise
        data = (response or {}).get("data") or {}
        return data.get("data") or {}, int((data.get("metadata") or {}).get("version") or 0)

    def create_secret(self, path: str, *, kind: str, metadata: dict[str, str]) -> RemoteSecret:
        """Write a generated value as version 1 (check-and-set 0: refused if the key exists),
        then its custom_metadata. The value is never returned, logged or kept."""
        self.check_path(path, creating=True)
        _engine, rest = self._split(path)
        wanted = {**metadata, "kind": kind}
        md.check_update(self.name, wanted, max_key=128, max_value=512)
        if self.kv_exists(rest):
            raise BackendError(
                f"{path} already exists; refusing to overwrite it",
                permanent=True,
                backend=self.name,
                reason="already exists",
            )
        self._write_new_value(path, rest, kind)
        try:
            self.write_metadata(path, {k: v for k, v in wanted.items() if v})
        except BackendError as exc:
            raise BackendError(
                f"{path} was created but its metadata was not written ({exc}); write the metadata again",
                permanent=False,
                backend=self.name,
                reason="metadata not written",
            ) from None
        log.info("created %s in %s (kind %s)", path, self.name, kind)
        return self.describe(path)

    def _write_new_value(self, path: str, rest: str, kind: str) -> None:
        value = passwords.generate(kind, backend=self.name)
        body = {"options": {"cas": 0}, "data": {VALUE_KEY: value}}
        try:
            self._call("POST", f"{self.mounts['kv']}/data/{rest}", f"create {path}", json=body)
        except BackendError as exc:
            message, reason = str(exc).replace(value, "[value]"), exc.reason  # never carry the value
            if "check-and-set" in message:
                message, reason = f"{path} already exists; refusing to overwrite it", "already exists"
            raise BackendError(
                message.removeprefix(f"{self.name}: "),
                permanent=exc.permanent,
                backend=self.name,
                reason=reason,
            ) from None
        finally:
            del value, body

    def ping(self) -> None:
        with self.errors("health check"):
            health = self.client.sys.read_health_status(method="GET")
            state = health.json() if hasattr(health, "json") else health
            if state.get("sealed"):
                raise BackendError("sealed", permanent=False, backend=self.name, reason="sealed")
            self.client.auth.token.lookup_self()

    def bootstrap(self) -> list[str]:
        """Make sure the mounts and policies the console needs exist (see vault_setup)."""
        from secrets_admin.backends.vault_setup import bootstrap

        return bootstrap(self)


def _classify(exc):
    if isinstance(exc, _PERMANENT):
        return True
    if isinstance(exc, hvac.exceptions.VaultError | requests.RequestException | OSError):
        return False
    return None


def _explain(exc) -> str:
    """The cause in words: sealed, unreachable and denied must read differently."""
    if "sealed" in str(exc).lower():
        return "OpenBao/Vault is sealed"
    checks = (
        (hvac.exceptions.VaultDown, "OpenBao/Vault is unavailable (sealed, standby or maintenance)"),
        (hvac.exceptions.Forbidden, "permission denied (token policy or expired token)"),
        (hvac.exceptions.InvalidPath, "not found"),
        (hvac.exceptions.InvalidRequest, "request rejected"),
        (hvac.exceptions.RateLimitExceeded, "rate limited"),
        (hvac.exceptions.InternalServerError, "server error"),
        (requests.Timeout, "timed out"),
        (requests.ConnectionError, "unreachable"),
    )
    return next((text for kind, text in checks if isinstance(exc, kind)), "")
