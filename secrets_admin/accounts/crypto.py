"""Field encryption for TOTP seeds: MultiFernet over settings.FIELD_ENCRYPTION_KEYS.

The first key encrypts, every key decrypts, so a new key goes first and the old ones stay until
`manage.py rotate_field_keys` has re-encrypted every row. No Vault in this path: login must
keep working when OpenBao is down.
"""

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def _fernet() -> MultiFernet:
    keys = settings.FIELD_ENCRYPTION_KEYS
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty: TOTP seeds cannot be encrypted.")
    return MultiFernet([Fernet(key) for key in keys])


def encrypt(value: bytes) -> str:
    """Encrypt with the first key; returns the Fernet token as text."""
    return _fernet().encrypt(value).decode("ascii")


def decrypt(token: str) -> bytes:
    """Decrypt with any configured key. Raises ImproperlyConfigured when no key fits."""
    try:
        return _fernet().decrypt(token.encode("ascii"))
    except InvalidToken as exc:
        raise ImproperlyConfigured("No key in FIELD_ENCRYPTION_KEYS decrypts a stored TOTP seed.") from exc


def rotate(token: str) -> str:
    """Re-encrypt a token with the first key (no-op in meaning, new ciphertext)."""
    return _fernet().rotate(token.encode("ascii")).decode("ascii")
