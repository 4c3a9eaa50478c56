"""Email (password reset, alert mail) and alert delivery (Slack, PagerDuty); the rotation
schedule's stagger between linked secrets."""

from console.env import env, envbool, envint, envsecret, envurl
from console.settings.base import IS_DEVELOPMENT

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
