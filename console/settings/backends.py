"""The secret backends (OpenBao/Vault, AWS, more as JSON), rotation targets, Sealed Secrets
certificates, and the /readyz probes."""

import json

from console.env import PROBLEMS, ConfigProblem, env, envbool, envint, envlist, envsecret, envurl

# --- Secret backends --------------------------------------------------------------------------
# Named connections; the inventory keeps the name. One Vault and one AWS come from the plain
# variables below; SECRET_BACKENDS (JSON, same shape) adds or replaces connections.
VAULT_ADDR = envurl("VAULT_ADDR", "http://127.0.0.1:8200", ("http", "https"))
SECRET_BACKENDS = {
    "vault": {
        "kind": "vault",
        "url": VAULT_ADDR,
        "token": envsecret("VAULT_TOKEN"),
        "role_id": envsecret("VAULT_ROLE_ID"),
        "secret_id": envsecret("VAULT_SECRET_ID"),
        "namespace": env("VAULT_NAMESPACE"),
        "kv_mount": env("VAULT_KV_MOUNT", "secret"),
        "pki_mount": env("VAULT_PKI_MOUNT", "pki"),
        "database_mount": env("VAULT_DATABASE_MOUNT", "database"),
        "timeout": envint("VAULT_TIMEOUT", 5, minimum=1),
        # TLS trust is explicit: this CA bundle (file or folder), else the system's (certifi).
        "ca_cert": env("VAULT_CACERT") or env("VAULT_CAPATH"),
        # Off: no HTTP(S)_PROXY, NO_PROXY, .netrc or REQUESTS_CA_BUNDLE picked up from the
        # environment (see README, "OpenBao / Vault connection").
        "trust_env": envbool("VAULT_TRUST_ENV", False),
    },
    "aws": {
        "kind": "aws",
        "region": env("AWS_REGION", env("AWS_DEFAULT_REGION", "us-east-1")),
        "endpoint_url": envurl("AWS_ENDPOINT_URL", None, ("http", "https")),
        "timeout": envint("AWS_TIMEOUT", 5, minimum=1),
    },
}
_extra_backends = env("SECRET_BACKENDS")
if _extra_backends:
    try:
        SECRET_BACKENDS.update(json.loads(_extra_backends))
    except (ValueError, TypeError):
        PROBLEMS.append(
            ConfigProblem("SECRET_BACKENDS", 'a JSON object like {"name": {"kind": "vault", ...}}')
        )

# Rotation targets: where the rolling strategy installs a password (PostgreSQL, host/port/database,
# never a password). A password secret names one with the tags `target` and `target_login`.
ROTATION_TARGETS = {}
if env("ROTATION_TARGETS"):
    try:
        ROTATION_TARGETS = {
            str(name): {
                "host": str(t.get("host", "127.0.0.1")),
                "port": int(t["port"]),
                "database": str(t["database"]),
            }
            for name, t in json.loads(env("ROTATION_TARGETS")).items()
        }
    except (ValueError, TypeError, KeyError, AttributeError):
        PROBLEMS.append(
            ConfigProblem(
                "ROTATION_TARGETS",
                'a JSON object like {"name": {"host": "db", "port": 5432, "database": "app"}}',
            )
        )

# Sealed Secrets (`kind: sealed` backends): the controller's sealing certificates over time (PEM
# files), private keys for the demo and tests only, and how many days before a certificate's
# not-after it counts as expiring. README "Sealed Secrets".
SEALED_CERTIFICATES = envlist("SEALED_CERTIFICATES", [])
SEALED_PRIVATE_KEYS = envlist("SEALED_PRIVATE_KEYS", [], secret=True)
SEALED_CERT_WARN_DAYS = envint("SEALED_CERT_WARN_DAYS", 30, minimum=1)

# /readyz probes: name -> dotted path of a callable returning None or raising.
READINESS_PROBES = {
    "database": "console.health.probe_database",
    "redis": "console.health.probe_redis",
    "vault": "secrets_admin.backends.probe_vault",
    "aws": "secrets_admin.backends.probe_aws",
}
# Each probe's time limit (seconds), and how long a result is reused: /readyz and the overview
# page never make a backend call more often than that, and never wait longer than the limit.
READINESS_TIMEOUT = envint("READINESS_TIMEOUT", 2, minimum=1)
READINESS_CACHE_SECONDS = envint("READINESS_CACHE_SECONDS", 5, minimum=1)
# Who sees /readyz's timings and error text besides the log (everyone else: names only).
READINESS_DETAIL_GROUP = "security-team"
# /readyz detail for READINESS_DETAIL_GROUP: name -> dotted path of a callable returning a dict;
# shown, never failing readiness (the audit ledger's state).
READINESS_DETAILS = {"audit": "secrets_admin.audit.health.ledger_detail"}
