"""Indexes the dashboard's aggregates read. They live here, not in the inventory's or the
rotation's migrations, so the dashboard can add what it reads without touching those apps'
migration history; the models' own indexes are unchanged.

- secrets by backend and environment: an index-only scan of (backend, environment);
- rotation success rates and the daily trend: a range scan of (finished_at, state)."""

from django.db import migrations

INDEXES = {
    "dashboard_secret_backend_env": ("inventory_secret", "backend, environment"),
    "dashboard_run_finished_state": ("rotation_rotationrun", "finished_at, state"),
}


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0005_search_and_tag_indexes"),
        ("rotation", "0002_hooks"),
    ]

    operations = [
        migrations.RunSQL(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({columns})",
            f"DROP INDEX IF EXISTS {name}",
        )
        for name, (table, columns) in INDEXES.items()
    ]
