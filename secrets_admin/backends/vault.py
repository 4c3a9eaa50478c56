"""OpenBao / HashiCorp Vault adapter (hvac). The only module that imports hvac."""

import threading
from pathlib import Path

import hvac
import hvac.exceptions
import requests

from secrets_admin.backends.base import BackendError, SecretBackend, translated

POLICY_DIR = Path(__file__).parent / "policies"
CONSOLE_POLICY = "candlefish-console"

# Retrying cannot fix these: the request itself is wrong or not allowed.
_PERMANENT = (hvac.exceptions.Forbidden, hvac.exceptions.InvalidPath, hvac.exceptions.InvalidRequest)


class VaultBackend(SecretBackend):
    kind = "vault"

    def __init__(self, name, config):
        super().__init__(name, config)
        self._local = threading.local()  # requests sessions are not shared across threads

    @property
    def client(self) -> hvac.Client:
        client = getattr(self._local, "client", None)
        if client is None:
            client = hvac.Client(
                url=self.config["url"],
                token=self.config.get("token"),
                namespace=self.config.get("namespace"),
                timeout=self.config.get("timeout", 5),
            )
            if not self.config.get("token"):
                with self.errors("AppRole login"):
                    client.auth.approle.login(self.config["role_id"], self.config["secret_id"])
            self._local.client = client
        return client

    def errors(self, doing: str):
        return translated(self.name, doing, _classify)

    def ping(self) -> None:
        with self.errors("health check"):
            health = self.client.sys.read_health_status(method="GET")
            state = health.json() if hasattr(health, "json") else health
            if state.get("sealed"):
                raise BackendError("sealed", permanent=False, backend=self.name)
            self.client.auth.token.lookup_self()

    def bootstrap(self) -> list[str]:
        """Make sure the mounts and policies the console needs exist. Idempotent; needs an admin
        token. Returns what it changed, one line per change."""
        kv, pki, db = self.config["kv_mount"], self.config["pki_mount"], self.config["database_mount"]
        changes = []
        with self.errors("bootstrap"):
            mounts = self.client.sys.list_mounted_secrets_engines()["data"]
            wanted = {kv: ("kv", {"version": "2"}), pki: ("pki", None), db: ("database", None)}
            for path, (engine, options) in wanted.items():
                if f"{path}/" not in mounts:
                    self.client.sys.enable_secrets_engine(engine, path=path, options=options)
                    changes.append(f"enabled {engine} at {path}/")
            if not self._pki_has_issuer(pki):
                self.client.sys.tune_mount_configuration(path=pki, max_lease_ttl="87600h")
                self.client.secrets.pki.generate_root(
                    type="internal", common_name="Candlefish Demo Root CA", extra_params={"ttl": "87600h"},
                    mount_point=pki,
                )
                changes.append(f"generated a root CA in {pki}/")
            self.client.secrets.pki.create_or_update_role(
                "candlefish", {"allow_any_name": True, "max_ttl": "8760h", "key_type": "ec", "key_bits": 256},
                mount_point=pki,
            )
            policy = (POLICY_DIR / f"{CONSOLE_POLICY}.hcl").read_text()
            self.client.sys.create_or_update_policy(CONSOLE_POLICY, policy)
            auth = self.client.sys.list_auth_methods()["data"]
            if "approle/" not in auth:
                self.client.sys.enable_auth_method("approle")
                changes.append("enabled approle auth")
            self.client.auth.approle.create_or_update_approle(
                CONSOLE_POLICY, token_policies=[CONSOLE_POLICY], token_ttl="1h", token_max_ttl="24h"
            )
        return changes

    def _pki_has_issuer(self, mount: str) -> bool:
        try:
            return bool(self.client.secrets.pki.list_issuers(mount_point=mount)["data"]["keys"])
        except hvac.exceptions.InvalidPath:
            return False


def _classify(exc):
    if isinstance(exc, _PERMANENT):
        return True
    if isinstance(exc, hvac.exceptions.VaultError | requests.RequestException | OSError):
        return False
    return None
