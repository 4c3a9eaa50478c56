"""HTTP hardening: TLS behind a proxy, trusted proxies, cookies, HSTS, headers."""

from console.client_ip import parse_trusted_proxies
from console.env import PROBLEMS, ConfigProblem, env, envbool, envint
from console.settings.base import IS_DEVELOPMENT

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
