"""Bootstrap an OpenBao/Vault for the console (`manage.py setup_vault`, `make run`, tests).

Uses the adapter's own client, so hvac stays imported by vault.py alone.
"""

import time
from pathlib import Path

POLICY_DIR = Path(__file__).parent / "policies"
ANCHOR_VERSIONS = 600_000


def bootstrap(backend) -> list[str]:
    """Make sure the mounts and policies the console needs exist. Idempotent; needs an admin
    token. Returns what it changed, one line per change."""
    from secrets_admin.backends.vault import CONSOLE_POLICY

    config, client = backend.config, backend.client
    kv, pki, db = config["kv_mount"], config["pki_mount"], config["database_mount"]
    changes = []
    has_issuer = (
        bool(backend._list(f"{pki}/issuers", "list PKI issuers")) if _mounted(backend, pki) else False
    )
    with backend.errors("bootstrap"):
        mounts = client.sys.list_mounted_secrets_engines()["data"]
        wanted = {kv: ("kv", {"version": "2"}), pki: ("pki", None), db: ("database", None)}
        anchors = _anchor_mount(backend)
        if anchors:
            wanted[anchors] = ("kv", {"version": "2"})
        for path, (engine, options) in wanted.items():
            if f"{path}/" not in mounts:
                client.sys.enable_secrets_engine(engine, path=path, options=options)
                changes.append(f"enabled {engine} at {path}/")
        if anchors:
            # A year of minute-by-minute anchors stays in the version history.
            _while_upgrading(
                lambda: client.secrets.kv.v2.configure(max_versions=ANCHOR_VERSIONS, mount_point=anchors)
            )
        if not has_issuer:
            client.sys.tune_mount_configuration(path=pki, max_lease_ttl="87600h")
            client.secrets.pki.generate_root(
                type="internal",
                common_name="Candlefish Demo Root CA",
                extra_params={"ttl": "87600h"},
                mount_point=pki,
            )
            changes.append(f"generated a root CA in {pki}/")
        client.secrets.pki.create_or_update_role(
            "candlefish",
            {
                "allow_any_name": True,
                "max_ttl": "8760h",
                "key_type": "ec",
                "key_bits": 256,
                # A replacement certificate names the rotation run that issued it (graceful).
                "allowed_uri_sans": ["urn:candlefish-run:*"],
            },
            mount_point=pki,
        )
        from secrets_admin.backends.vault_tokens import PKI_ROLE, PKI_ROLE_BODY

        client.secrets.pki.create_or_update_role(PKI_ROLE, PKI_ROLE_BODY, mount_point=pki)  # grants
        policy = (POLICY_DIR / f"{CONSOLE_POLICY}.hcl").read_text()
        client.sys.create_or_update_policy(CONSOLE_POLICY, policy)
        if "approle/" not in client.sys.list_auth_methods()["data"]:
            client.sys.enable_auth_method("approle")
            changes.append("enabled approle auth")
        client.auth.approle.create_or_update_approle(
            CONSOLE_POLICY, token_policies=[CONSOLE_POLICY], token_ttl="1h", token_max_ttl="24h"
        )
    return changes


def _while_upgrading(call, seconds: float = 30.0):
    """Run `call`, waiting out a KV v2 mount that was just enabled: it upgrades its storage for a
    moment and refuses requests with "Upgrading from non-versioned to versioned data" (for
    seconds on a loaded host). Any other error is raised at once."""
    until = time.monotonic() + seconds
    while True:
        try:
            return call()
        except Exception as exc:
            if "Upgrading from non-versioned" not in str(exc) or time.monotonic() > until:
                raise
            time.sleep(0.2)


def _mounted(backend, path: str) -> bool:
    with backend.errors("list mounts"):
        return f"{path}/" in backend.client.sys.list_mounted_secrets_engines()["data"]


def _anchor_mount(backend) -> str:
    """The KV v2 mount of the audit anchors (settings.AUDIT_ANCHOR), if they live in `backend`.
    The console policy (policies/candlefish-console.hcl) grants write and read on
    `audit-anchors/`, never delete: use that mount name, or extend the policy."""
    from django.conf import settings

    name, _, path = (settings.AUDIT_ANCHOR or "").partition(":")
    return path.strip("/").split("/", 1)[0] if name == backend.name and path else ""
