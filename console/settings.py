"""Candlefish console settings: one module, every value from the environment.

`.env.example` lists each variable. Readers in `console.env` record malformed values instead of
raising, and `console.checks` reports them (and unsafe production settings) with stable ids.
"""

import json
from pathlib import Path

import dj_database_url
from celery.schedules import crontab

from console.client_ip import parse_trusted_proxies
from console.env import (
    PROBLEMS,
    ConfigProblem,
    env,
    envbool,
    envchoice,
    envdecimal,
    envint,
    envlist,
    envsecret,
    envurl,
)

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env("CONSOLE_DATA_DIR", str(BASE_DIR / ".run")))

CONSOLE_ENV = envchoice("CONSOLE_ENV", "development", ("development", "staging", "production"))
IS_DEVELOPMENT = CONSOLE_ENV == "development"

# Known to be public: production refuses to start with it (console.E011).
INSECURE_SECRET_KEY = "insecure-development-key-do-not-use-in-production"
SECRET_KEY = envsecret("SECRET_KEY", INSECURE_SECRET_KEY)
DEBUG = envbool("DEBUG", IS_DEVELOPMENT)
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"] if IS_DEVELOPMENT else [])
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])

# Every user must hold a verified second factor before reaching any page (staging, production).
MFA_REQUIRED = envbool("MFA_REQUIRED", not IS_DEVELOPMENT)
SIGNUP_OPEN = envbool("SIGNUP_OPEN", False)
# Fernet keys for encrypting TOTP seeds at rest; the first encrypts, all decrypt (MultiFernet).
INSECURE_FIELD_KEY = "ZGV2ZWxvcG1lbnQtb25seS1maWVsZC1rZXktMDAwMDA="
FIELD_ENCRYPTION_KEYS = envlist("FIELD_ENCRYPTION_KEYS", [INSECURE_FIELD_KEY], secret=True)

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "allauth",
    "allauth.account",
    "django_otp",
    # django-otp's own otp_totp/otp_static plugins are not installed: TOTPDevice keeps its seed in
    # clear hex and StaticToken its codes in clear. secrets_admin.accounts has encrypted/hashed
    # equivalents, and django-otp accepts codes from every installed device model.
    "axes",
    "django_filters",
    "django_htmx",
    "console",
    "secrets_admin",
    "secrets_admin.audit",
    "secrets_admin.accounts",
    "secrets_admin.inventory",
    "secrets_admin.alerts",
    "secrets_admin.rotation",
    "secrets_admin.schedule",
    "secrets_admin.sealed",
    "secrets_admin.dashboard",
    "secrets_admin.compliance",
    "breakglass",
    "secrets_admin.usage",
]

MIDDLEWARE = [
    "console.middleware.RequestIDMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "console.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "secrets_admin.accounts.middleware.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "console.urls"
WSGI_APPLICATION = "console.wsgi.application"
ASGI_APPLICATION = "console.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "console.context_processors.console",
                "secrets_admin.accounts.context_processors.access",
                "secrets_admin.alerts.context_processors.banner",
                "secrets_admin.audit.context_processors.ledger_alarms",
            ],
        },
    },
]

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

# --- Audit ledger ------------------------------------------------------------------------------
# Where the chain head is anchored outside the database: "<backend>:<kv-v2 mount>/<path>"
# ("off" turns anchoring off: audit.W004). setup_vault creates the mount; the console policy may
# write and read it, never delete.
AUDIT_ANCHOR = env("AUDIT_ANCHOR", "vault:audit-anchors/candlefish")
AUDIT_ANCHOR = "" if AUDIT_ANCHOR.lower() == "off" else AUDIT_ANCHOR
AUDIT_ANCHOR_INTERVAL = envint("AUDIT_ANCHOR_INTERVAL", 30, minimum=5)  # seconds between anchors
AUDIT_ANCHOR_STALE_AFTER = envint("AUDIT_ANCHOR_STALE_AFTER", 60, minimum=10)  # then: alert, banner
AUDIT_SEQUENCER_INTERVAL_MS = envint("AUDIT_SEQUENCER_INTERVAL_MS", 200, minimum=10)
AUDIT_UNLINKED_ALERT_AFTER = envint("AUDIT_UNLINKED_ALERT_AFTER", 60, minimum=5)  # seconds
# Writers link what waits right after their commit when no sequencer is busy (never waiting).
AUDIT_LINK_ON_COMMIT = envbool("AUDIT_LINK_ON_COMMIT", True)
# The PostgreSQL role the console runs as in production (owns nothing; INSERT/SELECT on the
# ledger). When set, `migrate` (run as the owning role) grants it exactly what it needs.
DATABASE_RUNTIME_ROLE = env("DATABASE_RUNTIME_ROLE", "")

CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# A task is acknowledged after it ran, and re-queued if its worker died mid-way; tasks are
# idempotent, and DB-side leases (not redelivery) are what recovers long jobs.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# A task whose whole worker died (killed, OOM, host lost) stays unacknowledged in Redis and is
# delivered to another worker after this many seconds. Keep it above the longest task's run time
# (a task still running past it would be delivered twice); leases recover long jobs sooner.
CELERY_VISIBILITY_TIMEOUT = envint("CELERY_VISIBILITY_TIMEOUT", 3600, minimum=5)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    # Look for such tasks every tenth of the timeout (at most every 10 s), not every 100 s.
    "unacked_restore_interval": max(1, min(10, CELERY_VISIBILITY_TIMEOUT // 10)),
    "unacked_restore_throttle": 1,
    # How long a worker's BRPOP waits before it looks again. With acks_late and a prefetch of 1,
    # a worker that just acknowledged a task takes its next one only when the current BRPOP
    # returns (celery#4378, #7718): kombu's 1 s default cost every rotation up to a second idle.
    "polling_interval": 0.1,
}
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = "console"
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    "heartbeat": {"task": "console.heartbeat", "schedule": 60.0},
    # Inventory: walk every configured backend every 15 minutes (no args = all backends).
    "inventory-sync": {"task": "inventory.sync", "schedule": 900.0},
    # ... and recompute every secret's status and due date in SQL, so it stays true with a backend down.
    "inventory-refresh-status": {"task": "inventory.refresh_status", "schedule": 300.0},
    # Audit ledger: link entries (a backstop for `manage.py run_sequencer`), verify from the last
    # anchor and anchor the head anew, verify everything daily, settle unfinished backend changes.
    "audit-sequence": {"task": "audit.sequence", "schedule": 10.0},
    "audit-anchor": {"task": "audit.anchor", "schedule": float(AUDIT_ANCHOR_INTERVAL)},
    "audit-verify-full": {"task": "audit.verify", "schedule": 86400.0, "kwargs": {"full": True}},
    "audit-reconcile-intents": {"task": "audit.reconcile_intents", "schedule": 60.0},
    # Alerts: lost or stuck deliveries, backends down or sealed, certificates close to expiry.
    "alerts-reconcile": {"task": "alerts.reconcile", "schedule": 60.0},
    "alerts-check-backends": {"task": "alerts.check_backends", "schedule": 60.0},
    "alerts-check-certificates": {"task": "alerts.check_certificates", "schedule": 3600.0},
    # Break-glass: expire unapproved requests, end grants at expiry, read OpenBao's audit file.
    "breakglass-expire": {"task": "breakglass.expire", "schedule": 30.0},
    "breakglass-record": {"task": "breakglass.record_sessions", "schedule": 5.0},  # + usage rollup
    # Access patterns: link rollup rows to secrets the inventory found after they were counted.
    "usage-link": {"task": "usage.link_secrets", "schedule": 900.0},
    # ... and compute the home page's access and cost figures (spikes, stale secrets, tiers).
    "usage-summarise": {"task": "usage.summarise", "schedule": 300.0},
    # Sealed Secrets: note new sealing keys; remind the security team until each is backed up.
    "sealed-check-keys": {"task": "sealed.check_keys", "schedule": 3600.0},
    # Rotation: resume runs whose worker died, start what is due, alert on missed rotations,
    # retire blue-green's old versions after their overlap.
    "rotation-reconcile": {"task": "rotation.reconcile", "schedule": 30.0},
    "rotation-schedule": {"task": "rotation.schedule", "schedule": 300.0},
    "rotation-missed": {"task": "rotation.missed", "schedule": 900.0},
    "rotation-retire": {"task": "rotation.retire", "schedule": 300.0},
    # Dashboard: recompute the stored figures (live events recompute them too; this covers the
    # ones no event announces: authenticators, verifications, the status beat).
    "dashboard-snapshot": {"task": "dashboard.snapshot", "schedule": 30.0},
    # Compliance: the weekly digest to managers (Mondays 07:00 UTC; a week is sent once).
    "compliance-weekly-digest": {
        "task": "compliance.weekly_digest",
        "schedule": crontab(day_of_week=1, hour=7, minute=0),
    },
}

# --- Rotation engine --------------------------------------------------------------------------
ROTATION_LEASE_SECONDS = envint("ROTATION_LEASE_SECONDS", 60, minimum=5)
ROTATION_MAX_ATTEMPTS = envint("ROTATION_MAX_ATTEMPTS", 5, minimum=1)
ROTATION_RETRY_BASE_SECONDS = envint("ROTATION_RETRY_BASE_SECONDS", 30, minimum=0)
ROTATION_RETRY_MAX_SECONDS = envint("ROTATION_RETRY_MAX_SECONDS", 3600, minimum=1)
ROTATION_OVERLAP_HOURS = envint("ROTATION_OVERLAP_HOURS", 24, minimum=0)
ROTATION_MISSED_GRACE_HOURS = envint("ROTATION_MISSED_GRACE_HOURS", 24, minimum=0)
ROTATION_HOOK_TIMEOUT = envint("ROTATION_HOOK_TIMEOUT", 10, minimum=1)
# Runs per `rotation.advance_chunk` task (the scheduler's path): they share one transaction per step.
ROTATION_CHUNK_SIZE = envint("ROTATION_CHUNK_SIZE", 50, minimum=1)

# A running sync whose heartbeat is older than this (seconds) lost its worker: it is marked
# abandoned and the next sync of its backend proceeds. A live run beats every few seconds.
INVENTORY_SYNC_TIMEOUT = envint("INVENTORY_SYNC_TIMEOUT", 300, minimum=1)

# --- Break-glass and access requests ------------------------------------------------------------
BREAKGLASS_DEFAULT_HOURS = envint("BREAKGLASS_DEFAULT_HOURS", 4, minimum=1)  # a break-glass grant's length
BREAKGLASS_MAX_HOURS = envint("BREAKGLASS_MAX_HOURS", 8, minimum=1)  # the cap a request cannot pass
ACCESS_MAX_HOURS = envint("ACCESS_MAX_HOURS", 24, minimum=1)  # the cap of everyday (standard) access
BREAKGLASS_PENDING_MINUTES = envint("BREAKGLASS_PENDING_MINUTES", 60, minimum=1)  # then: expired unapproved
BREAKGLASS_REVIEW_DAYS = envint("BREAKGLASS_REVIEW_DAYS", 3, minimum=1)  # unsigned review: escalation alert
# OpenBao's file audit device, as this host sees it: session recording tails it ("" = off).
BREAKGLASS_AUDIT_LOG = env("BREAKGLASS_AUDIT_LOG", "")
# Break-glass analytics: an approval within this many seconds of the request is a "rubber stamp".
BREAKGLASS_RUBBER_STAMP_SECONDS = envint("BREAKGLASS_RUBBER_STAMP_SECONDS", 60, minimum=1)

# --- Access patterns and cost (secrets_admin.usage) ----------------------------------------------
# Spikes: an hour of at least MIN reads above the secret's 7-day hourly mean + SIGMAS deviations,
# within the last WINDOW hours. Stale: not read for STALE_DAYS (candidates to retire).
USAGE_SPIKE_WINDOW_HOURS = envint("USAGE_SPIKE_WINDOW_HOURS", 24, minimum=1)
USAGE_SPIKE_MIN_READS = envint("USAGE_SPIKE_MIN_READS", 10, minimum=1)
USAGE_SPIKE_SIGMAS = envdecimal("USAGE_SPIKE_SIGMAS", "3")
USAGE_STALE_DAYS = envint("USAGE_STALE_DAYS", 90, minimum=1)
# Monthly prices (USD) per storage tier; an archived secret takes COST_ARCHIVE_KB_PER_SECRET.
COST_HOT_PER_SECRET_MONTH = envdecimal("COST_HOT_PER_SECRET_MONTH", "0.40")
COST_WARM_PER_SECRET_MONTH = envdecimal("COST_WARM_PER_SECRET_MONTH", "0.10")
COST_COLD_PER_GB_MONTH = envdecimal("COST_COLD_PER_GB_MONTH", "0.02")
COST_ARCHIVE_KB_PER_SECRET = envdecimal("COST_ARCHIVE_KB_PER_SECRET", "8")

# --- Secret backends --------------------------------------------------------------------------
# Named connections; the inventory keeps the name. One Vault and one AWS come from the plain
# variables below; SECRET_BACKENDS (JSON, same shape) adds or replaces connections.
VAULT_ADDR = envurl("VAULT_ADDR", "http://127.0.0.1:8200", ("http", "https"))
SECRET_BACKENDS = {
    "vault": {
        "kind": "vault",
        "url": VAULT_ADDR,
        "token": envsecret("VAULT_TOKEN"),
        "role_id": envsecret("VAULT_ROLE_ID"),
        "secret_id": envsecret("VAULT_SECRET_ID"),
        "namespace": env("VAULT_NAMESPACE"),
        "kv_mount": env("VAULT_KV_MOUNT", "secret"),
        "pki_mount": env("VAULT_PKI_MOUNT", "pki"),
        "database_mount": env("VAULT_DATABASE_MOUNT", "database"),
        "timeout": envint("VAULT_TIMEOUT", 5, minimum=1),
    },
    "aws": {
        "kind": "aws",
        "region": env("AWS_REGION", env("AWS_DEFAULT_REGION", "us-east-1")),
        "endpoint_url": envurl("AWS_ENDPOINT_URL", None, ("http", "https")),
        "timeout": envint("AWS_TIMEOUT", 5, minimum=1),
    },
}
_extra_backends = env("SECRET_BACKENDS")
if _extra_backends:
    try:
        SECRET_BACKENDS.update(json.loads(_extra_backends))
    except (ValueError, TypeError):
        PROBLEMS.append(
            ConfigProblem("SECRET_BACKENDS", 'a JSON object like {"name": {"kind": "vault", ...}}')
        )

# Rotation targets: where the rolling strategy installs a password (PostgreSQL, host/port/database,
# never a password). A password secret names one with the tags `target` and `target_login`.
ROTATION_TARGETS = {}
if env("ROTATION_TARGETS"):
    try:
        ROTATION_TARGETS = {
            str(name): {
                "host": str(t.get("host", "127.0.0.1")),
                "port": int(t["port"]),
                "database": str(t["database"]),
            }
            for name, t in json.loads(env("ROTATION_TARGETS")).items()
        }
    except (ValueError, TypeError, KeyError, AttributeError):
        PROBLEMS.append(
            ConfigProblem(
                "ROTATION_TARGETS",
                'a JSON object like {"name": {"host": "db", "port": 5432, "database": "app"}}',
            )
        )

# Sealed Secrets (`kind: sealed` backends): the controller's sealing certificates over time (PEM
# files), private keys for the demo and tests only, and how many days before a certificate's
# not-after it counts as expiring. README "Sealed Secrets".
SEALED_CERTIFICATES = envlist("SEALED_CERTIFICATES", [])
SEALED_PRIVATE_KEYS = envlist("SEALED_PRIVATE_KEYS", [], secret=True)
SEALED_CERT_WARN_DAYS = envint("SEALED_CERT_WARN_DAYS", 30, minimum=1)

# /readyz probes: name -> dotted path of a callable returning None or raising.
READINESS_PROBES = {
    "database": "console.health.probe_database",
    "redis": "console.health.probe_redis",
    "vault": "secrets_admin.backends.probe_vault",
    "aws": "secrets_admin.backends.probe_aws",
}
# Each probe's time limit (seconds), and how long a result is reused: /readyz and the overview
# page never make a backend call more often than that, and never wait longer than the limit.
READINESS_TIMEOUT = envint("READINESS_TIMEOUT", 2, minimum=1)
READINESS_CACHE_SECONDS = envint("READINESS_CACHE_SECONDS", 5, minimum=1)
# Who sees /readyz's timings and error text besides the log (everyone else: names only).
READINESS_DETAIL_GROUP = "security-team"
# /readyz detail for READINESS_DETAIL_GROUP: name -> dotted path of a callable returning a dict;
# shown, never failing readiness (the audit ledger's state).
READINESS_DETAILS = {"audit": "secrets_admin.audit.health.ledger_detail"}

# --- Accounts and MFA (django-allauth + django-otp) -----------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "optional"
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
AXES_FAILURE_LIMIT = envint("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
ACCOUNT_ADAPTER = "secrets_admin.accounts.adapters.AccountAdapter"
# axes locks a username+IP pair after LOGIN_FAILURE_LIMIT failures (allauth's own login_failed
# counter would double-count); allauth's "login" limit (30/m/ip) still caps spraying from one IP.
ACCOUNT_RATE_LIMITS = {"login_failed": None}
# Failures count against the account whatever text named it; unknown names only as a keyed hash
# (secrets_admin/accounts/lockout.py). The typed login text never reaches axes' tables.
AXES_USERNAME_CALLABLE = "secrets_admin.accounts.lockout.axes_username"
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "login", "email", "otp_code", "code"]
# Key of the hash that stands for login text naming no account (falls back to SECRET_KEY).
AUDIT_HMAC_KEY = envsecret("AUDIT_HMAC_KEY", "")
AXES_CLIENT_IP_CALLABLE = "console.client_ip.client_ip"
AXES_LOCKOUT_TEMPLATE = "accounts/lockout.html"
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Candlefish] "
ACCOUNT_FORMS = {"login": "secrets_admin.accounts.forms.ConsoleLoginForm"}
# How the console names itself in emails (allauth would use the request's host name).
SITE_NAME = env("SITE_NAME", "Candlefish Secrets Console")
OTP_THROTTLE_FACTOR = envint("OTP_THROTTLE_FACTOR", 1, minimum=0)  # wait 1, 2, 4, ... s after wrong codes
OTP_TOTP_ISSUER = "Candlefish"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Email (password reset, alert mail) --------------------------------------------------------
EMAIL_HOST = env("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = envint("EMAIL_PORT", 1025, minimum=1)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = envsecret("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", False)
EMAIL_BACKEND = env(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if IS_DEVELOPMENT
    else "django.core.mail.backends.smtp.EmailBackend",
)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "candlefish@localhost")

# --- Alerts (email, Slack, PagerDuty) -----------------------------------------------------------
# The console's address as people reach it: links in alert emails, Slack and PagerDuty.
CONSOLE_URL = envurl("CONSOLE_URL", "http://127.0.0.1:8000", ("http", "https"))
# PagerDuty Events API v2 endpoint (the EU service region, a proxy, or a local receiver in tests).
PAGERDUTY_EVENTS_URL = envurl(
    "PAGERDUTY_EVENTS_URL", "https://events.pagerduty.com/v2/enqueue", ("http", "https")
)
# Tries per delivery, waiting ALERTS_RETRY_SECONDS x 2^(n-1) after each temporary failure.
ALERTS_MAX_ATTEMPTS = envint("ALERTS_MAX_ATTEMPTS", 5, minimum=1)
ALERTS_RETRY_SECONDS = envint("ALERTS_RETRY_SECONDS", 30, minimum=1)
# An alert still open this many hours after its last notification is sent again (0: never).
ALERTS_RENOTIFY_HOURS = envint("ALERTS_RENOTIFY_HOURS", 24, minimum=0)
# Rotation schedule: minutes between the starts of two linked secrets' rotations (the stagger).
SCHEDULE_LINK_GAP_MINUTES = envint("SCHEDULE_LINK_GAP_MINUTES", 60, minimum=1)

# --- HTTP hardening ----------------------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if envbool("BEHIND_TLS_PROXY", False) else None
# Who may speak for the client in X-Forwarded-For (console/client_ip.py): unset = nobody, only
# REMOTE_ADDR counts; a hop count; or the proxies' CIDRs. The ledger, axes and allauth share it.
try:
    TRUSTED_PROXIES = parse_trusted_proxies(env("TRUSTED_PROXIES"))
except ValueError:
    PROBLEMS.append(
        ConfigProblem("TRUSTED_PROXIES", "a hop count like 1, or CIDRs like 10.0.0.0/8,192.0.2.7")
    )
    TRUSTED_PROXIES = 0
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = not IS_DEVELOPMENT
SESSION_COOKIE_AGE = envint("SESSION_COOKIE_AGE", 8 * 3600, minimum=300)
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", not IS_DEVELOPMENT)
# Probes (container healthchecks, load balancers) speak plain HTTP to the process itself.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0 if IS_DEVELOPMENT else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not IS_DEVELOPMENT
SECURE_HSTS_PRELOAD = not IS_DEVELOPMENT
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_FAILURE_VIEW = "secrets_admin.accounts.errors.csrf_failure"  # in the layout, like other errors

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env("STATIC_ROOT", str(DATA_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if IS_DEVELOPMENT
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = IS_DEVELOPMENT
if IS_DEVELOPMENT:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns about a missing root

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "console.middleware.RequestIDLogFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["request_id"]}
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
