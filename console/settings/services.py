"""The services the console stores in: the database (SQLite embedded, PostgreSQL through
DATABASE_URL) and Redis (cache, Channels layer; the Celery broker is in console.settings.tasks)."""

import dj_database_url

from console.env import envurl
from console.settings.base import DATA_DIR

# --- Database: SQLite when embedded, PostgreSQL through DATABASE_URL -------------------------
DATABASE_URL = envurl("DATABASE_URL", None, ("postgres", "postgresql", "sqlite"), secret=True)
if DATABASE_URL:
    # conn_max_age 0: under ASGI every sync view runs on a pool thread, and persistent connections
    # would pile up one per thread; put a pooler (PgBouncer) in front for reuse.
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "console.sqlite3",
            # Web, worker and beat share the file: wait for the write lock instead of failing.
            "OPTIONS": {
                "timeout": 30,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: Celery broker and results, Channels layer, cache ---------------------------------
REDIS_URL = envurl("REDIS_URL", "redis://127.0.0.1:6379/0", ("redis", "rediss", "unix"), secret=True)
CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}


def channel_layers(url: str, prefix: str) -> dict:
    """The Channels layer on Redis. channels-redis waits for messages in BZPOPMIN for up to 5 s
    (its brpop_timeout) and redis-py 8 gives every read a 5 s socket_timeout by default, so an
    idle socket's read timed out and Daphne dropped the websocket (close 1011) every few seconds.
    Reads may wait well past the blocking time; a dead connection still fails, by keepalive."""
    host = {"address": url, "socket_timeout": 30, "socket_connect_timeout": 5, "socket_keepalive": True}
    return {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [host], "prefix": prefix},
        }
    }


CHANNEL_LAYERS = channel_layers(REDIS_URL, "candlefish:channels")
# How often an open live socket checks its session and groups again (logout, removal, expiry).
LIVE_RECHECK_SECONDS = 60
