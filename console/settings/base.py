"""Where the console runs and what it is made of: its environment (development, staging,
production), keys, hosts, installed apps, middleware and templates."""

from pathlib import Path

from console.env import env, envbool, envchoice, envlist, envsecret

BASE_DIR = Path(__file__).resolve().parents[2]
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
