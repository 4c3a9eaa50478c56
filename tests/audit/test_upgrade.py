"""PostgreSQL only: upgrading a v1 ledger (migration 0004) re-seals an intact chain as v2 and
records the v1 head in the new chain; a broken v1 chain stops the upgrade. Each case migrates a
database of its own, dropped at the end."""

import importlib
import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from tests.markers import requires_postgres

pytestmark = [requires_postgres, pytest.mark.postgres]
ROOT = Path(__file__).resolve().parents[2]
upgrade = importlib.import_module("secrets_admin.audit.migrations.0004_ledger_v2")


@pytest.fixture
def v1_database():
    """A new database migrated to the v1 ledger; yields (url, manage(*args) -> CompletedProcess)."""
    db = connection.settings_dict
    host, port, user = db["HOST"] or "127.0.0.1", db["PORT"] or 5432, db["USER"]
    name = f"cf_upgrade_{uuid.uuid4().hex[:8]}"
    url = f"postgres://{user}@{host}:{port}/{name}"
    admin = psycopg.connect(f"postgres://{user}@{host}:{port}/postgres", autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "AUDIT_"))}
    env.update(DATABASE_URL=url, AUDIT_ANCHOR="off", LOG_LEVEL="WARNING")

    def manage(*args, **extra):
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env={**env, **extra},
            capture_output=True,
            text=True,
        )

    try:
        assert manage("migrate", "audit", "0003_filter_indexes", "-v0").returncode == 0
        yield url, manage
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def write_v1(url: str, count: int, *, tamper_at: int | None = None) -> str:
    """`count` entries hashed by the v1 rule, as v1's record() wrote them; returns the head hash."""
    prev, start = upgrade.GENESIS, datetime(2026, 11, 1, tzinfo=UTC)
    with psycopg.connect(url) as conn:
        for sequence in range(1, count + 1):
            row = {
                "sequence": sequence,
                "created_at": start + timedelta(seconds=sequence),
                "actor_name": "carol",
                "action": "group.member.added",
                "target_type": "auth.user",
                "target_id": str(sequence),
                "target_repr": "alice",
                "request_id": f"req-{sequence}",
                "ip": "10.0.0.1",
                "data": {"group": "cto", "n": sequence, "ü": "✓"},
                "prev_hash": prev,
            }
            row["hash"] = upgrade._v1_hash(row)
            if sequence == tamper_at:
                row["actor_name"] = "mallory"  # changed after hashing, as v1 tampering did
            conn.execute(
                "INSERT INTO audit_auditentry (sequence, created_at, actor_name, action, target_type,"
                " target_id, target_repr, request_id, ip, data, prev_hash, hash) VALUES"
                " (%(sequence)s, %(created_at)s, %(actor_name)s, %(action)s, %(target_type)s, %(target_id)s,"
                " %(target_repr)s, %(request_id)s, %(ip)s, %(data)s, %(prev_hash)s, %(hash)s)",
                {**row, "data": json.dumps(row["data"])},
            )
            prev = row["hash"]
    return prev


def test_an_intact_v1_chain_is_resealed_and_the_new_chain_names_its_head(v1_database):
    url, manage = v1_database
    v1_head = write_v1(url, 25)
    result = manage("migrate", "-v0")
    assert result.returncode == 0, result.stderr
    assert manage("run_sequencer", "--once").returncode == 0
    verified = manage("verify_audit", "--full")
    assert verified.returncode == 0, verified.stderr
    assert "Audit chain intact (full): 26 entries checked, head #26" in verified.stdout
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT id, sequence, action, data FROM audit_auditentry ORDER BY sequence"
        ).fetchall()
    assert [(r[0], r[1]) for r in rows] == [(n, n) for n in range(1, 27)]  # ids and order kept
    assert rows[-1][2] == "audit.ledger.upgraded"
    assert (rows[-1][3]["v1_head"], rows[-1][3]["v1_head_hash"]) == (25, v1_head)


def test_a_broken_v1_chain_stops_the_upgrade_unless_the_break_is_named(v1_database):
    url, manage = v1_database
    write_v1(url, 10, tamper_at=4)
    refused = manage("migrate", "-v0")
    assert refused.returncode != 0 and "broken at entry #4" in refused.stderr
    assert "AUDIT_UPGRADE_ACCEPT_BREAK=4" in refused.stderr
    accepted = manage("migrate", "-v0", AUDIT_UPGRADE_ACCEPT_BREAK="4")
    assert accepted.returncode == 0, accepted.stderr
    manage("run_sequencer", "--once")
    with psycopg.connect(url) as conn:
        (data,) = conn.execute(
            "SELECT data FROM audit_auditentry WHERE action = 'audit.ledger.upgraded'"
        ).fetchone()
    assert data["v1_break_accepted"] == "4"
    assert (
        manage("verify_audit", "--full").returncode == 0
    )  # re-sealed as it was: the break is recorded above
