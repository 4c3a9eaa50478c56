"""System checks of the audit ledger.

audit.E001  the database is neither PostgreSQL nor SQLite (the chain lock exists for those two)
audit.W002  SQLite without transaction_mode IMMEDIATE: concurrent audit writers fail with
            "database is locked" or a duplicate sequence instead of waiting (never a forked chain,
            since the sequence is the primary key)
"""

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
