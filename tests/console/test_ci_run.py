""".ci/run's gate, with `make` replaced by a stand-in that prints a chosen pytest summary: CI
fails when a test failed, when lint failed, and when any test was skipped for a MISSING part.
The machine's PostgreSQL and Redis are real; the database and Redis db number are the test's own."""

import os
import shutil
import subprocess
from pathlib import Path

import psycopg
import pytest

from tests.markers import needs, requires_chromium

ROOT = Path(__file__).resolve().parents[2]
DATABASE = "cf_ci_selftest"


def _answers() -> bool:
    if not (shutil.which("pg_isready") and shutil.which("psql") and shutil.which("redis-cli")):
        return False
    pg = subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432"], check=False)
    redis = subprocess.run(
        ["redis-cli", "-h", "127.0.0.1", "ping"], capture_output=True, text=True, check=False
    )
    return pg.returncode == 0 and redis.stdout.strip() == "PONG"


# .ci/run starts or installs what is missing; here it must find everything running already.
pytestmark = [
    needs("the machine's PostgreSQL and Redis on 127.0.0.1 (.ci/run starts them)", _answers()),
    requires_chromium,
]

FAKE_MAKE = """#!/bin/sh
echo "$@" >> "$FAKE_MAKE_ARGS"
case "$1" in
  test) printf '%s\\n' "$FAKE_PYTEST_OUTPUT"; exit "${FAKE_TEST_EXIT:-0}" ;;
  lint) exit "${FAKE_LINT_EXIT:-0}" ;;
esac
exit 2
"""
PASSED = "========= 12 passed in 3.10s ========="


def ci_run(tmp_path: Path, output: str, **env: str) -> subprocess.CompletedProcess:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "make").write_text(FAKE_MAKE)
    (bin_dir / "make").chmod(0o755)
    environment = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "CI_DATABASE": DATABASE,
        "CI_REDIS_DB": "14",
        "CI_LOG": str(tmp_path / "pytest.log"),
        "FAKE_MAKE_ARGS": str(tmp_path / "make-args"),
        "FAKE_PYTEST_OUTPUT": output,
        **env,
    }
    return subprocess.run(
        ["bash", str(ROOT / ".ci" / "run")],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(autouse=True)
def _drop_database():
    yield
    with psycopg.connect("postgres://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        for name in (DATABASE, *WORKER_DATABASES):
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# What pytest-django leaves behind when a run is killed: one test database per xdist worker.
WORKER_DATABASES = (f"test_{DATABASE}", f"test_{DATABASE}_gw0", f"test_{DATABASE}_gw1")


def test_it_passes_creates_its_database_and_keeps_the_output(tmp_path):
    result = ci_run(tmp_path, f"SKIPPED [1] tests/x.py:3: not on this platform\n{PASSED}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert PASSED in (tmp_path / "pytest.log").read_text()
    assert f"DATABASE_URL=postgres://postgres@127.0.0.1:5432/{DATABASE}" in result.stdout
    with psycopg.connect("postgres://postgres@127.0.0.1:5432/postgres") as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]).fetchone()
    assert found


def test_it_drops_test_databases_left_by_an_earlier_run_and_runs_two_workers(tmp_path):
    with psycopg.connect("postgres://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        for name in (DATABASE, *WORKER_DATABASES):
            conn.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(f"postgres://postgres@127.0.0.1:5432/{DATABASE}", autocommit=True) as conn:
        conn.execute("CREATE TABLE left_by_an_earlier_run ()")
    result = ci_run(tmp_path, PASSED)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "TEST_WORKERS=2" in (tmp_path / "make-args").read_text()  # make test on two workers
    with psycopg.connect("postgres://postgres@127.0.0.1:5432/postgres") as conn:
        left = conn.execute(
            "SELECT datname FROM pg_database WHERE datname = ANY(%s)", [[DATABASE, *WORKER_DATABASES]]
        ).fetchall()
    assert left == [(DATABASE,)]  # the leftovers are gone
    with psycopg.connect(f"postgres://postgres@127.0.0.1:5432/{DATABASE}") as conn:
        assert conn.execute("SELECT to_regclass('left_by_an_earlier_run')").fetchone() == (None,)  # new


def test_it_fails_when_a_test_was_skipped_for_a_missing_part(tmp_path):
    skipped = (
        "SKIPPED [2] tests/accounts/test_browser.py:14: MISSING: Debian's chromium: apt-get install chromium"
    )
    result = ci_run(tmp_path, f"{skipped}\n{PASSED}")
    assert result.returncode == 1
    assert "skipped for a missing part" in result.stderr and "test_browser.py:14" in result.stderr


def test_it_fails_when_a_test_fails(tmp_path):
    result = ci_run(tmp_path, "FAILED tests/x.py::test_y - assert 1 == 2", FAKE_TEST_EXIT="2")
    assert result.returncode == 2
    assert "FAILED (exit 2)" in result.stdout


def test_it_fails_when_lint_fails(tmp_path):
    result = ci_run(tmp_path, PASSED, FAKE_LINT_EXIT="1")
    assert result.returncode == 1
    assert "make lint" in result.stdout
