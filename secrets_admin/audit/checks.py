"""System checks of the audit ledger.

audit.E001  the database is neither PostgreSQL nor SQLite (the chain lock exists for those two)
audit.W002  SQLite without transaction_mode IMMEDIATE: concurrent audit writers fail with
            "database is locked" or a duplicate sequence instead of waiting (never a forked chain,
            since the sequence is unique)
audit.E003  AUDIT_ANCHOR is not "<backend>:<mount>/<path>" naming a configured vault backend
audit.W004  AUDIT_ANCHOR is "off": the chain head is not anchored outside the database
"""

from django.conf import settings
from django.core import checks
from django.db import connections


@checks.register(checks.Tags.database)
def check_chain_lock(app_configs=None, databases=None, **kwargs):
    # Runs only when checks are asked for databases (migrate, check --database); reads settings only.
    errors = []
    for alias in databases or ():
        connection = connections[alias]
        if connection.vendor == "postgresql":
            continue
        if connection.vendor != "sqlite":
            errors.append(
                checks.Error(
                    f"The audit ledger supports PostgreSQL and SQLite, not {connection.vendor}.",
                    hint="Point DATABASE_URL at PostgreSQL.",
                    id="audit.E001",
                )
            )
        elif (
            str(connection.settings_dict.get("OPTIONS", {}).get("transaction_mode", "")).upper()
            != "IMMEDIATE"
        ):
            errors.append(
                checks.Warning(
                    f"SQLite database {alias!r} lacks OPTIONS transaction_mode IMMEDIATE.",
                    hint="Concurrent audited changes will fail instead of waiting for each other; use the "
                    "embedded default (no DATABASE_URL) or PostgreSQL.",
                    id="audit.W002",
                )
            )
    return errors


@checks.register(checks.Tags.security)
def check_anchor(app_configs=None, **kwargs):
    value = settings.AUDIT_ANCHOR
    if not value:
        return [
            checks.Warning(
                "AUDIT_ANCHOR is off: the audit chain head is not anchored outside the database, so "
                "someone who can rewrite the database can rewrite the ledger unnoticed.",
                hint='Set AUDIT_ANCHOR to "vault:audit-anchors/<name>" (setup_vault creates the mount).',
                id="audit.W004",
            )
        ]
    backend, _, path = value.partition(":")
    mount, _, key = path.strip("/").partition("/")
    config = settings.SECRET_BACKENDS.get(backend) or {}
    if config.get("kind") != "vault" or not mount or not key:
        return [
            checks.Error(
                "AUDIT_ANCHOR must look like <backend>:<kv-v2 mount>/<path>, naming a vault backend.",
                hint='For example "vault:audit-anchors/candlefish".',
                id="audit.E003",
            )
        ]
    return []
