"""Indexes the live set's recompute reads on every rotation or sync event (the Celery task
dashboard.live_refresh), so it stays well under a second at 100k secrets and 50k runs:

- secret age: an index-only scan of (kind, last_rotated, created_at, discovered_at) over the
  secrets present (the histogram's one GROUP BY reads the index, not the 100k wide rows);
- failing now: "a later run of the same secret finished" probes (secret_id, created_at) among
  finished runs, instead of hashing every finished run for each recompute."""

from django.db import migrations

INDEXES = {
    "dashboard_secret_age": (
        "inventory_secret",
        "kind, last_rotated, created_at, discovered_at",
        "missing_since IS NULL",
    ),
    "dashboard_run_finished_later": ("rotation_rotationrun", "secret_id, created_at", "state = 'finished'"),
}


class Migration(migrations.Migration):
    dependencies = [("dashboard", "0002_snapshot")]

    operations = [
        migrations.RunSQL(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({columns}) WHERE {where}",
            f"DROP INDEX IF EXISTS {name}",
        )
        for name, (table, columns, where) in INDEXES.items()
    ]
