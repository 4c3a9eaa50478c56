"""The embedded mode (SQLite): Django remakes inventory_secret for most ALTERs, which drops its
triggers; after every `migrate` the age counters' triggers are back and the counters recounted.
Runs `manage.py migrate` into a fresh SQLite data folder in a subprocess, whatever database the
suite itself uses, and reads the file with sqlite3."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from secrets_admin.dashboard.sqlite_triggers import NAMES

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def migrate(folder: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env |= {"CONSOLE_DATA_DIR": str(folder), "DJANGO_SETTINGS_MODULE": "console.settings"}
    return subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )


def triggers(db: sqlite3.Connection) -> set[str]:
    rows = db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'inventory_secret'"
    )
    return {name for (name,) in rows}


def test_a_fresh_embedded_database_counts_secret_ages_after_every_migration(tmp_path):
    migrate(tmp_path)
    db = sqlite3.connect(tmp_path / "console.sqlite3")
    assert set(NAMES) <= triggers(db)  # inventory 0008's remake had dropped all three

    # A secret inserted the way any writer would is counted by the trigger.
    db.execute(
        "INSERT INTO inventory_secret (backend, path, name, kind, environment, owner_team, purpose,"
        " tags, rotation, details, status, problem, source, remote_digest, discovered_at, created_at)"
        " VALUES ('vault', 'secret/a', 'a', 'api_key', 'production', '', '', '[]', '{}', '{}', 'ok',"
        " '', 'sync', '', '2026-11-01 00:00:00', '2026-10-01 00:00:00')"
    )
    db.commit()
    assert db.execute("SELECT kind, day, n FROM dashboard_agecount").fetchall() == [
        ("api_key", "2026-10-01", 1)
    ]

    # A trigger lost again (as a later remake would) is put back by the next migrate, and the
    # counters are recounted from the secrets.
    db.execute("DROP TRIGGER dashboard_age_inserted")
    db.execute("DELETE FROM dashboard_agecount")
    db.commit()
    db.close()
    migrate(tmp_path)
    db = sqlite3.connect(tmp_path / "console.sqlite3")
    assert set(NAMES) <= triggers(db)
    assert db.execute("SELECT kind, day, sum(n) FROM dashboard_agecount GROUP BY 1, 2").fetchall() == [
        ("api_key", "2026-10-01", 1)
    ]
