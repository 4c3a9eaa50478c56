"""The audit ledger's timing (anchors, sequencer, alarms) and Celery: the broker, delivery
guarantees and the beat schedule of every periodic task."""

from celery.schedules import crontab

from console.env import env, envbool, envint
from console.settings.services import REDIS_URL

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
# record() prepares its INSERT once per PostgreSQL session (secrets_admin.audit.wire); false
# behind a transaction-mode pooler that does not track prepared statements (PgBouncer < 1.21).
AUDIT_PREPARED_INSERT = envbool("AUDIT_PREPARED_INSERT", True)
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
    # ... and delete rollup hours older than USAGE_RETENTION_DAYS (audited).
    "usage-prune": {"task": "usage.prune", "schedule": 86400.0},
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
    # ... and rebuild the age histogram's counters from a scan (exact; compacts the triggers' rows).
    "dashboard-age-reconcile": {"task": "dashboard.age_reconcile", "schedule": 900.0},
    # Compliance: the weekly digest to managers (Mondays 07:00 UTC; a week is sent once).
    "compliance-weekly-digest": {
        "task": "compliance.weekly_digest",
        "schedule": crontab(day_of_week=1, hour=7, minute=0),
    },
}
