from cryptography.fernet import Fernet
from django.conf import settings
from django.core.checks import Error


def field_keys(app_configs=None, **kwargs):
    """accounts.E001: every FIELD_ENCRYPTION_KEYS entry must be a Fernet key (32 url-safe base64 bytes)."""
    errors = []
    keys = getattr(settings, "FIELD_ENCRYPTION_KEYS", [])
    if not keys:
        errors.append(
            Error("FIELD_ENCRYPTION_KEYS is empty: TOTP seeds cannot be stored.", id="accounts.E001")
        )
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            errors.append(
                Error(
                    f"FIELD_ENCRYPTION_KEYS entry #{position} is not a Fernet key.",
                    hint='Make one with: python -c "from cryptography.fernet import Fernet; '
                    'print(Fernet.generate_key().decode())"',
                    id="accounts.E001",
                )
            )
    return errors
