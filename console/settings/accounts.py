"""Accounts and the second factor (django-allauth, django-otp, axes): login, lockout, password
rules."""

from console.env import env, envint, envsecret

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
