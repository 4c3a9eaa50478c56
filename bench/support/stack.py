"""The setup every bench repeats: its own PostgreSQL database, OpenBao and Valkey on free
loopback ports (console.stack.servers), Django pointed at them, and the load and CPU figures
printed beside the timings (the machine is shared). A bench imports it once the repository root
is on sys.path:

    ROOT = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(ROOT))
    from bench.support import stack

Nothing here measures anything: the benches time their own work.
"""

import contextlib
import os
import statistics
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit, urlunsplit

BAO_TOKEN = "bench-root"  # the dev OpenBao's root token: a throwaway server per run


# --- databases -------------------------------------------------------------------------------


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def _maintenance_url(url: str) -> str:
    """The same server's `postgres` database, to create or drop `url`'s from."""
    return urlunsplit(urlsplit(url)._replace(path="/postgres"))


def ensure_database(url: str) -> None:
    """Create `url`'s database when missing (benches that keep their data between runs)."""
    import psycopg

    name = database_name(url)
    with psycopg.connect(_maintenance_url(url), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def fresh_database(url: str, *, force: bool = False) -> None:
    """Drop `url`'s database and create it empty. force: end whatever is still connected to it
    (a worker of an interrupted run) instead of failing."""
    import psycopg

    name = database_name(url)
    with psycopg.connect(_maintenance_url(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"' + (" WITH (FORCE)" if force else ""))
        conn.execute(f'CREATE DATABASE "{name}"')


def redacted(url: str) -> str:
    """`url` without its password, for messages."""
    parts = urlsplit(url)
    return urlunsplit(
        parts._replace(netloc=f"{parts.username or ''}@{parts.hostname or ''}:{parts.port or 5432}")
    )


# --- servers ---------------------------------------------------------------------------------


def _ready(server):
    try:
        return server.wait_ready()
    except BaseException:
        server.stop()
        raise


def start_openbao(folder):
    """A dev-mode OpenBao (root token BAO_TOKEN) on a free port, ready; the caller stops it."""
    from console.stack.servers import OpenBao

    return _ready(OpenBao(Path(folder) / "openbao", token=BAO_TOKEN).start())


def start_valkey(folder):
    """A Valkey on a free port, ready; the caller stops it."""
    from console.stack.servers import Valkey

    return _ready(Valkey(Path(folder) / "redis").start())


@contextlib.contextmanager
def servers(folder, *, openbao: bool = False, valkey: bool = False, reuse_redis: bool = False):
    """Valkey and/or OpenBao (dev mode, token BAO_TOKEN) on free ports with their data under
    `folder`, both started before either is waited for; stopped in reverse order on the way out.
    reuse_redis: use REDIS_URL instead of a Valkey of our own when it answers. Yields
    .redis_url (None without Valkey) and .openbao (the server: .url, .token; None without)."""
    from console.stack.servers import OpenBao, Valkey, redis_reachable

    folder, started = Path(folder), []
    running = SimpleNamespace(redis_url=None, openbao=None)
    try:
        if valkey:
            running.redis_url = os.environ.get("REDIS_URL") if reuse_redis else None
            if not (running.redis_url and redis_reachable(running.redis_url)):
                started.append(Valkey(folder / "redis").start())
                running.redis_url = started[-1].url
        if openbao:
            running.openbao = OpenBao(folder / "openbao", token=BAO_TOKEN).start()
            started.append(running.openbao)
        for server in started:
            server.wait_ready()
        yield running
    finally:
        for server in reversed(started):
            server.stop()


# --- Django ----------------------------------------------------------------------------------


def environment(values: dict, *, drop: tuple = ()) -> dict:
    """This process's environment without the variables starting with `drop`, plus `values`:
    what the bench's child processes (sequencer, workers) are given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.update(values)
    return env


def setup_django(values: dict, *, drop: tuple = (), overrides=None, migrate=True, vault=False) -> None:
    """Export `values` (after removing the caller's variables starting with `drop`), with
    DJANGO_SETTINGS_MODULE console.settings unless set; django.setup(); set the `overrides`
    settings before anything reads them; migrate the default database; with vault=True,
    bootstrap the OpenBao backend (mounts, policies) as `make run` does."""
    for key in [k for k in os.environ if drop and k.startswith(drop)]:
        del os.environ[key]
    os.environ.update(values)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    for name, value in (overrides or {}).items():
        setattr(settings, name, value)
    if migrate:
        call_command("migrate", verbosity=0)
    if vault:
        from secrets_admin.backends import get_backend

        get_backend("vault").bootstrap()


# --- figures beside the timings --------------------------------------------------------------


def p95(samples: list[float]) -> float:
    """The 95th percentile (statistics.quantiles' last twentieth), to 0.1; one sample: itself."""
    return round(statistics.quantiles(samples, n=20)[-1], 1) if len(samples) > 1 else round(samples[0], 1)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process `pid` so far (a PostgreSQL backend, a worker)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load_average(digits: int = 2) -> list[float]:
    """The 1, 5 and 15 minute load averages: how busy the shared machine was."""
    return [round(x, digits) for x in os.getloadavg()]
