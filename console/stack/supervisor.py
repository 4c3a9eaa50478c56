"""`make run`: the whole console on embedded defaults, supervised, with prefixed logs.

Order: Redis (REDIS_URL if reachable, else Valkey), OpenBao, moto_server, the rotation target
(a throwaway scram PostgreSQL, console/stack/pg_target.py) and an SMTP sink
(alert and password-reset mail, kept in DATA_DIR/mail/) start in parallel;
the database is migrated; OpenBao is configured (`setup_vault`) and demo data written
(`seed_demo`); then the demo API provider (rotation hooks), Daphne, a Celery worker, Celery
beat and the audit sequencer start. If
any child exits, or on SIGINT/SIGTERM, every child is stopped (process groups, SIGTERM then
SIGKILL) and we exit.
State (URLs, pids) goes to DATA_DIR/stack.json for tooling and the smoke test.
"""

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from console.stack.pg_target import PostgresTarget
from console.stack.servers import (
    DemoProvider,
    DjangoProcess,
    Moto,
    OpenBao,
    SmtpSink,
    Valkey,
    free_port,
    port_is_free,
    redis_reachable,
    stop_all,
)

ROOT = Path(__file__).resolve().parents[2]
COLORS = {
    "openbao": 33,
    "redis": 31,
    "moto": 35,
    "smtp": 33,
    "web": 32,
    "worker": 36,
    "beat": 34,
    "setup": 37,
    "sequencer": 94,
    "pgtarget": 96,
    "provider": 95,
}
_print_lock = threading.Lock()


def sink(name: str, line: str) -> None:
    tag = f"{name:<7}|"
    if sys.stdout.isatty():
        tag = f"\033[{COLORS.get(name, 37)}m{tag}\033[0m"
    with _print_lock:
        print(f"{tag} {line}", flush=True)


class Stopping(Exception):
    pass


def _on_signal(signum, frame):
    raise Stopping(signal.Signals(signum).name)


_setup_processes: set[subprocess.Popen] = set()  # running manage.py commands, stopped on the way out


def manage(env: dict, *args: str) -> None:
    """Run a management command to completion, its output prefixed 'setup'. Raises RuntimeError."""
    proc = subprocess.Popen(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    _setup_processes.add(proc)
    try:
        for raw in iter(proc.stdout.readline, b""):
            sink("setup", raw.decode(errors="replace").rstrip())
        if proc.wait() != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed with exit code {proc.returncode}")
    finally:
        _setup_processes.discard(proc)


class Background(threading.Thread):
    """Runs function(*args) on a thread; join() re-raises what it raised."""

    def __init__(self, function, *args):
        super().__init__(daemon=True)
        self.function, self.args, self.error = function, args, None

    def run(self):
        try:
            self.function(*self.args)
        except Exception as exc:  # handed to join()
            self.error = exc

    def join(self, timeout=None):
        super().join(timeout)
        if self.error:
            raise self.error


def stop_setup_processes():
    for proc in list(_setup_processes):
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m console.stack", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("PORT", "8000")), help="web port (8000)"
    )
    parser.add_argument("--data-dir", default=os.environ.get("CONSOLE_DATA_DIR", str(ROOT / ".run")))
    parser.add_argument("--no-seed", action="store_true", help="skip seed_demo")
    args = parser.parse_args(argv)

    if not port_is_free(args.port):
        print(f"Port {args.port} is taken. Stop what uses it or run: make run PORT=8001", file=sys.stderr)
        return 2
    data = Path(args.data_dir).resolve()
    data.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)

    servers = []
    started = time.monotonic()
    try:
        redis_url = os.environ.get("REDIS_URL")
        if redis_url and redis_reachable(redis_url):
            sink("redis", f"using REDIS_URL {redis_url.split('@')[-1]}")
        else:
            if redis_url:
                sink("redis", "REDIS_URL is not reachable; starting an embedded Valkey instead")
            servers.append(Valkey(data / "redis", sink).start())
            redis_url = servers[-1].url
        bao = OpenBao(data / "openbao", sink).start()
        moto = Moto(data / "moto", sink).start()
        smtp = SmtpSink(data / "smtp", sink, mail_dir=data / "mail").start()
        # The rotation target: a fresh scram PostgreSQL each start (OpenBao forgets its root login).
        target = PostgresTarget(data / "pgtarget", sink).start()
        servers += [bao, moto, smtp, target]

        # Our servers win over the caller's settings, including NAME_FILE forms (the file would win).
        ours = ("REDIS_URL", "VAULT_TOKEN", "AWS_ENDPOINT_URL", "EMAIL_HOST_PASSWORD")
        env = {
            **{k: v for k, v in os.environ.items() if k.removesuffix("_FILE") not in ours or k in ours},
            "CONSOLE_DATA_DIR": str(data),
            "REDIS_URL": redis_url,
            "VAULT_ADDR": bao.url,
            "VAULT_TOKEN": bao.token,
            "AWS_ENDPOINT_URL": moto.url,
            "AWS_REGION": os.environ.get("AWS_REGION", "us-east-1"),
            # moto accepts any credentials; never fall through to a real AWS profile.
            "AWS_ACCESS_KEY_ID": "candlefish-demo",
            "AWS_SECRET_ACCESS_KEY": "candlefish-demo",
            # Every mail (alerts, password resets) goes to the sink; Slack and PagerDuty stay off
            # until someone saves a webhook URL or routing key on the Alerts page.
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp.port),
            "EMAIL_USE_TLS": "false",
            "EMAIL_HOST_USER": "",
            "EMAIL_HOST_PASSWORD": "",
            "CONSOLE_URL": os.environ.get("CONSOLE_URL") or f"http://127.0.0.1:{args.port}",
            # Session recording tails the dev OpenBao's file audit device (beat, every 5 s).
            "BREAKGLASS_AUDIT_LOG": str(bao.audit_log),
            "PYTHONUNBUFFERED": "1",
            "ROTATION_TARGETS": json.dumps(
                {"demo-postgres": {"host": target.host, "port": target.port, "database": "candlefish_target"}}
            ),
        }
        env.pop("AWS_PROFILE", None)
        migrate = Background(manage, env, "migrate", "--noinput", "-v", "0")
        migrate.start()
        for server in servers:
            server.wait_ready()
        migrate.join()
        manage(env, "setup_vault")
        # The demo API provider (rotation hooks): its signing key goes to seed_demo (which saves
        # the hooks, encrypted) and to the provider only; its OpenBao token is one seed_demo
        # creates for it (read-only), in DATA_DIR.
        provider_port, provider_key = free_port(), secrets.token_hex(24)
        provider_env = {
            "DEMO_PROVIDER_URL": f"http://127.0.0.1:{provider_port}",
            "DEMO_PROVIDER_HMAC_KEY": provider_key,
        }
        if not args.no_seed:
            # Only seed_demo gets the target's superuser password (to provision it), never the console.
            manage({**env, **provider_env, "DEMO_TARGET_PASSWORD": target.password}, "seed_demo")
        backends = {
            "vault": {"kind": "vault", "url": bao.url, "token_file": str(data / "demo-provider-token")},
            "aws": {"kind": "aws", "endpoint_url": moto.url, "region": env["AWS_REGION"],
                    "access_key_id": "demo-provider", "secret_access_key": "demo-provider"},
        }  # fmt: skip
        provider_env["DEMO_PROVIDER_BACKENDS"] = json.dumps(backends)
        provider = DemoProvider(data / "provider", {**env, **provider_env}, sink, port=provider_port)
        servers.append(provider.start())

        web_url = f"http://127.0.0.1:{args.port}"
        web = ["-m", "daphne", "-b", "127.0.0.1", "-p", str(args.port), "console.asgi:application"]
        worker = "-m celery -A console worker -l INFO --concurrency 2 -Q console".split()
        worker += ["-n", f"console-{os.getpid()}@%h"]
        beat = "-m celery -A console beat -l INFO -s".split() + [str(data / "celerybeat-schedule")]
        apps = [
            DjangoProcess("web", web, data, env, sink, ready_url=f"{web_url}/healthz", cwd=ROOT),
            DjangoProcess("worker", worker, data, env, sink, cwd=ROOT),
            DjangoProcess("beat", beat, data, env, sink, cwd=ROOT),
        ]
        for app in apps:
            servers.append(app.start())
        apps[0].wait_ready(60)
        # Links audit entries into the chain within a fraction of a second of their commit;
        # started once the web answers, so its start-up does not compete with Daphne's.
        sequencer = DjangoProcess("sequencer", ["manage.py", "run_sequencer"], data, env, sink, cwd=ROOT)
        servers.append(sequencer.start())

        state = {
            "url": web_url,
            "redis_url": redis_url,
            "vault_addr": bao.url,
            "aws_endpoint_url": moto.url,
            "smtp": f"127.0.0.1:{smtp.port}",
            "rotation_target": f"{target.host}:{target.port}",
            "demo_provider": provider.url,
            "mail_dir": str(smtp.mail_dir),
            "supervisor": os.getpid(),
            "children": {s.name: s.pid for s in servers},  # each child leads its own process group
        }
        (data / "stack.json").write_text(json.dumps(state, indent=2))
        logins = data / "demo-logins.txt"
        banner = [f"Candlefish console is serving at {web_url}  (ready in {time.monotonic() - started:.1f}s)"]
        if logins.exists():
            banner += ["", logins.read_text().rstrip()]
        sink_at = f"SMTP sink on 127.0.0.1:{smtp.port}"
        banner += ["", f"Demo emails (alerts, password resets) are kept in {smtp.mail_dir}/ ({sink_at})."]
        banner += ["", "Ctrl-C stops every process."]
        with _print_lock:
            print("\n" + "\n".join(banner) + "\n", flush=True)

        while all(s.alive() for s in servers):
            time.sleep(0.5)
        dead = [s.name for s in servers if not s.alive()]
        sink("setup", f"{', '.join(dead)} exited; stopping the stack")
        return 1
    except Stopping as why:
        sink("setup", f"{why}: stopping every process")
        return 0
    except Exception as exc:
        sink("setup", f"start-up failed: {exc}")
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop_setup_processes()
        stop_all(servers)
        (data / "stack.json").unlink(missing_ok=True)
