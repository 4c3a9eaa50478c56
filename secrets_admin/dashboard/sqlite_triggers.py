"""The age counters' triggers on SQLite (the embedded mode), put back after every migrate.

SQLite cannot alter most columns in place, so Django's schema editor remakes the table (a new
table, the rows copied, the old one dropped), and the old table's triggers go with it: adding a
NOT NULL column to inventory_secret (inventory 0008) left the dashboard's age histogram
uncounted from then on. After each `migrate` this puts back any of migration 0004's triggers
that are missing and recounts the counters from a scan (the copy was not counted, but nor was
anything else while the triggers were gone). PostgreSQL alters tables in place and keeps them.
"""

import importlib
import logging

from django.db import connections
from django.db.migrations.recorder import MigrationRecorder

log = logging.getLogger(__name__)
COUNTERS = ("dashboard", "0004_age_counts")
NAMES = ("dashboard_age_inserted", "dashboard_age_deleted", "dashboard_age_updated")


def missing(using: str = "default") -> list[str]:
    """The age triggers absent from inventory_secret (SQLite only; [] elsewhere or before 0004)."""
    connection = connections[using]
    if connection.vendor != "sqlite" or COUNTERS not in MigrationRecorder(connection).applied_migrations():
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'inventory_secret'"
        )
        present = {name for (name,) in cursor.fetchall()}
    return [name for name in NAMES if name not in present]


def restore(sender=None, using: str = "default", **kwargs) -> list[str]:
    """post_migrate: create the missing triggers (0004's own statements) and recount; returns
    the names it put back."""
    absent = missing(using)
    if not absent:
        return []
    from secrets_admin.dashboard.services import age_counts

    migration = importlib.import_module(f"secrets_admin.dashboard.migrations.{COUNTERS[1]}")
    statements = dict(zip(NAMES, migration.LITE_CREATE, strict=False))  # the three CREATE TRIGGERs
    with connections[using].cursor() as cursor:
        for name in absent:
            cursor.execute(statements[name])
    age_counts.rebuild()
    log.warning("dashboard: put back the SQLite age triggers a table remake dropped: %s", ", ".join(absent))
    return absent
