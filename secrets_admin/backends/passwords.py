"""Fresh secret values for `create_secret`. Generated in memory, handed to the backend SDK and
dropped; never returned to callers, logged or stored."""

import secrets
import string

from secrets_admin.backends.base import BackendError

PASSWORD_LENGTH = 32
# No quotes, backslashes or spaces: the value must survive shells, URLs and SQL literals.
_PUNCTUATION = "!#%*+-.:=?@^_~"
_ALPHABET = string.ascii_letters + string.digits + _PUNCTUATION
GENERATED_KINDS = ("api_key", "password", "generic")


def generate(kind: str, *, backend: str = "") -> str:
    """A new value for a secret of `kind`; BackendError(permanent) for kinds we cannot generate
    (database credentials and certificates come from their own engines)."""
    if kind in ("api_key", "generic"):
        return secrets.token_urlsafe(32)
    if kind == "password":
        return strong_password()
    raise BackendError(
        f"cannot generate a value for kind {kind!r}; only {', '.join(GENERATED_KINDS)}",
        permanent=True,
        backend=backend,
        reason="refused input",
    )


def strong_password(length: int = PASSWORD_LENGTH) -> str:
    """Random password with at least one lower, upper, digit and punctuation character."""
    classes = (string.ascii_lowercase, string.ascii_uppercase, string.digits, _PUNCTUATION)
    while True:
        value = "".join(secrets.choice(_ALPHABET) for _ in range(length))
        if all(any(ch in group for ch in value) for group in classes):
            return value
