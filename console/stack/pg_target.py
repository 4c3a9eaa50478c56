"""A throwaway PostgreSQL that really checks passwords: the rotation target.

The machine's own cluster (when there is one) trusts every local login, so a rotation could
"succeed" with any password. This cluster is initdb'd fresh on every start from the binaries in
the `pgserver` wheel (so a machine with only Python has them too), listens on 127.0.0.1 only, on
a free port, with no Unix socket, and every TCP login is checked with scram-sha-256.

PostgreSQL refuses to run as root. When we are root, initdb and postgres run as the `postgres`
user if the machine has one, else as a `pgserver` user created the way the pgserver package
creates it (`useradd`); the cluster then lives in a fresh folder under the system temp dir,
because the caller's folder may not be reachable by that user (pytest's is mode 0700).
"""

import atexit
import functools
import os
import pwd
import secrets
import shutil
import signal
import stat
import subprocess
import tempfile
from pathlib import Path

from console.stack.servers import Server, free_port

SUPERUSER = "postgres"


def binaries() -> Path:
    """pgserver's bin folder, found without importing the package (its import touches the
    user's runtime dir and warns when XDG_RUNTIME_DIR is unset)."""
    import importlib.util

    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the pgserver package is not installed (pip install -e .)")
    installed = Path(spec.submodule_search_locations[0]) / "pginstall"
    if _run_as() and not _reachable_by_others(installed / "bin"):
        return _reachable_copy(installed) / "bin"
    return installed / "bin"


@functools.cache
def _reachable_copy(installed: Path) -> Path:
    """As root, postgres runs as another user, who cannot start binaries inside a folder only root
    may enter (a clone in `mktemp -d`, a 0700 home): copy them once per process to a folder that
    user can reach, removed at exit."""
    folder = Path(tempfile.mkdtemp(prefix="candlefish-pginstall-"))
    folder.chmod(0o755)
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    # the wheel's binaries find their shared libraries at $ORIGIN/../../../pgserver.libs
    site = installed.parent.parent
    shutil.copytree(site / "pgserver.libs", folder / "pgserver.libs", symlinks=True)
    return Path(shutil.copytree(installed, folder / "pgserver" / "pginstall", symlinks=True))


def _run_as() -> str | None:
    """The system user postgres runs as: None (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "pgserver"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    subprocess.run(["useradd", "-s", "/bin/bash", "pgserver"], check=True, capture_output=True)
    return "pgserver"


def _reachable_by_others(path: Path) -> bool:
    return all(parent.stat().st_mode & stat.S_IXOTH for parent in path.resolve().parents)


class PostgresTarget(Server):
    """postgres -D <fresh cluster> on 127.0.0.1:<port>, scram-sha-256 for every TCP login.

    `password` is the superuser's (generated per start, never printed); `dsn(database, user,
    password)` builds a libpq connection string for any login on it."""

    name = "pgtarget"
    ready_timeout = 60.0

    def __init__(self, data_dir, sink=None, port=None):
        super().__init__(data_dir, sink)
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.user = _run_as()
        self.password = secrets.token_urlsafe(24)
        self._temporary = None
        if self.user and not _reachable_by_others(self.data_dir):
            self._temporary = Path(tempfile.mkdtemp(prefix="candlefish-pgtarget-"))
        self.pgdata = (self._temporary or self.data_dir) / "pgdata"

    def dsn(self, database: str = "postgres", user: str = SUPERUSER, password: str | None = None) -> str:
        """A libpq keyword string; the password is quoted so any generated value fits."""
        secret = self.password if password is None and user == SUPERUSER else password or ""
        quoted = "'" + secret.replace("\\", "\\\\").replace("'", "\\'") + "'"
        return (
            f"host={self.host} port={self.port} dbname={database} user={user} "
            f"password={quoted} connect_timeout=5 sslmode=disable"
        )

    def popen_options(self) -> dict:
        return {"user": self.user} if self.user else {}

    def _initdb(self) -> None:
        if self.pgdata.exists():
            shutil.rmtree(self.pgdata)  # throwaway: every start is a new cluster
        self.pgdata.mkdir(parents=True, mode=0o700)
        pwfile = self.pgdata.parent / "superuser-password"
        pwfile.write_text(self.password + "\n")
        pwfile.chmod(0o600)
        if self.user:
            entry = pwd.getpwnam(self.user)
            for path in (self.pgdata.parent, self.pgdata, pwfile):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        try:
            subprocess.run(
                [
                    str(binaries() / "initdb"), "-D", str(self.pgdata), "-U", SUPERUSER,
                    f"--pwfile={pwfile}", "--auth-host=scram-sha-256", "--auth-local=scram-sha-256",
                    "--encoding=UTF8", "--no-instructions", "--no-sync",
                ],
                check=True, capture_output=True, text=True, timeout=120, cwd=self.pgdata.parent,
                **self.popen_options(),
            )  # fmt: skip
        except subprocess.CalledProcessError as exc:
            raise RuntimeError(f"initdb failed: {exc.stderr.strip()[-500:]}") from None
        finally:
            pwfile.unlink(missing_ok=True)

    def start(self):
        self._initdb()
        return super().start()

    def workdir(self) -> Path:
        return self.pgdata.parent

    def command(self):
        return [
            str(binaries() / "postgres"), "-D", str(self.pgdata), "-p", str(self.port),
            "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
            "-c", "password_encryption=scram-sha-256", "-c", "fsync=off",
            "-c", "max_connections=50", "-c", "shared_buffers=16MB",
        ]  # fmt: skip

    def environment(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"
        return env

    def is_ready(self) -> bool:
        import psycopg

        try:
            psycopg.connect(self.dsn(), autocommit=True).close()
        except psycopg.Error:
            return False
        return True

    def stop(self, grace: float = 10.0):
        # SIGINT is PostgreSQL's fast shutdown (SIGTERM, "smart", waits for every client to
        # leave, and OpenBao keeps its connections open); then the group as usual.
        if self.alive():
            try:
                os.kill(self.process.pid, signal.SIGINT)
                self.process.wait(grace)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
        super().stop(grace)
        if self._temporary:
            shutil.rmtree(self._temporary, ignore_errors=True)
