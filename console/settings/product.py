"""The product's own limits and intervals: rotation engine, inventory sync, break-glass and
access requests, access patterns and cost."""

from console.env import env, envdecimal, envint

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
# Lanes a chunk is split into: one lane's outcomes commit (on a second connection) while the next
# lane's backend calls run. 1 (default): record in line, each step's commit waited for. 2 won at
# load 10-26 but lost on a quieter machine (the recording thread contends for the GIL).
ROTATION_CHUNK_LANES = envint("ROTATION_CHUNK_LANES", 1, minimum=1)

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
# The hourly rollup keeps this many days (beat `usage.prune`, daily): the pages' longest range
# (366 days) plus a margin. Spikes need 8 days; "last read" is kept apart and never pruned.
USAGE_RETENTION_DAYS = envint("USAGE_RETENTION_DAYS", 400, minimum=8)
# Monthly prices (USD) per storage tier; an archived secret takes COST_ARCHIVE_KB_PER_SECRET.
COST_HOT_PER_SECRET_MONTH = envdecimal("COST_HOT_PER_SECRET_MONTH", "0.40")
COST_WARM_PER_SECRET_MONTH = envdecimal("COST_WARM_PER_SECRET_MONTH", "0.10")
COST_COLD_PER_GB_MONTH = envdecimal("COST_COLD_PER_GB_MONTH", "0.02")
COST_ARCHIVE_KB_PER_SECRET = envdecimal("COST_ARCHIVE_KB_PER_SECRET", "8")
