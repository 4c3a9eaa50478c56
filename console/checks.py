"""System checks for configuration, with stable ids.

console.E001  an environment variable is malformed (names the variable and the expected form)
console.E002  Vault connection has neither a token nor an AppRole (W002 in development)
console.E003  a SECRET_BACKENDS entry has an unknown kind
console.E010  production/staging with DEBUG on
console.E011  production/staging with the default SECRET_KEY
console.E012  production/staging with MFA enforcement off
console.E013  production/staging with the development field-encryption key
console.E014  production/staging without ALLOWED_HOSTS

`refuse_unsafe_start()` runs them when the ASGI/WSGI app loads, so a production process with an
unsafe setting does not start at all (not only `manage.py check`).
"""

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from console.env import PROBLEMS

BACKEND_KINDS = ("vault", "aws", "sealed")


@checks.register("console")
def check_environment(app_configs=None, **kwargs):
    return [
        checks.Error(
            f"{p.variable} is malformed.",
            hint=f"Set {p.variable} to {p.expected} (see .env.example).",
            id="console.E001",
        )
        for p in PROBLEMS
    ]


@checks.register("console")
def check_backends(app_configs=None, **kwargs):
    errors = []
    for name, conf in settings.SECRET_BACKENDS.items():
        kind = conf.get("kind")
        if kind not in BACKEND_KINDS:
            errors.append(
                checks.Error(
                    f"Secret backend {name!r} has unknown kind {kind!r}.",
                    hint="kind must be one of " + ", ".join(BACKEND_KINDS),
                    id="console.E003",
                )
            )
        elif kind == "vault" and not (conf.get("token") or (conf.get("role_id") and conf.get("secret_id"))):
            # Development may start without Vault (pages explain it); elsewhere it is an error.
            level = checks.Warning if settings.CONSOLE_ENV == "development" else checks.Error
            errors.append(
                level(
                    f"Vault backend {name!r} has no credentials.",
                    hint="Set VAULT_TOKEN (or VAULT_TOKEN_FILE), or VAULT_ROLE_ID and VAULT_SECRET_ID "
                    "for AppRole.",
                    id="console.W002" if level is checks.Warning else "console.E002",
                )
            )
    return errors


@checks.register("console", deploy=True)
def check_production_safety(app_configs=None, **kwargs):
    if settings.CONSOLE_ENV == "development":
        return []
    env = settings.CONSOLE_ENV
    errors = []
    if settings.DEBUG:
        errors.append(checks.Error(f"DEBUG is on in {env}.", hint="Set DEBUG=false.", id="console.E010"))
    if settings.SECRET_KEY == settings.INSECURE_SECRET_KEY or len(settings.SECRET_KEY) < 50:
        errors.append(
            checks.Error(
                f"SECRET_KEY is the public development key (or shorter than 50 characters) in {env}.",
                hint="Set SECRET_KEY or SECRET_KEY_FILE to a long random value.",
                id="console.E011",
            )
        )
    if not settings.MFA_REQUIRED:
        errors.append(
            checks.Error(
                f"MFA enforcement is off in {env}.", hint="Set MFA_REQUIRED=true.", id="console.E012"
            )
        )
    if settings.INSECURE_FIELD_KEY in settings.FIELD_ENCRYPTION_KEYS:
        errors.append(
            checks.Error(
                f"FIELD_ENCRYPTION_KEYS contains the public development key in {env}.",
                hint="Generate one with: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'",
                id="console.E013",
            )
        )
    if not settings.ALLOWED_HOSTS:
        errors.append(
            checks.Error(
                f"ALLOWED_HOSTS is empty in {env}.",
                hint="Set ALLOWED_HOSTS=console.example.com",
                id="console.E014",
            )
        )
    return errors


def refuse_unsafe_start():
    """Raise ImproperlyConfigured listing every console error; called as the web app loads."""
    errors = [
        e
        for e in checks.run_checks(tags=["console"], include_deployment_checks=True)
        if e.level >= checks.ERROR
    ]
    if errors:
        raise ImproperlyConfigured(
            "Refusing to start:\n" + "\n".join(f"{e.id}: {e.msg} {e.hint}" for e in errors)
        )
