"""The contract every secret backend adapter follows.

Adapters wrap one SDK each (only vault.py imports hvac, only aws.py imports boto3) and turn every
SDK or network failure into `BackendError`, whose `permanent` flag says whether retrying can help.
"""

from contextlib import contextmanager


class BackendError(Exception):
    """A backend call failed. permanent=True: retrying will not help (denied, bad path, bad input)."""

    def __init__(self, message: str, *, permanent: bool, backend: str = ""):
        super().__init__(message)
        self.permanent = permanent
        self.backend = backend

    def __str__(self):
        prefix = f"{self.backend}: " if self.backend else ""
        return prefix + super().__str__()


class SecretBackend:
    """Base class: one instance per named connection in settings.SECRET_BACKENDS."""

    kind = ""

    def __init__(self, name: str, config: dict):
        self.name = name
        self.config = config

    def ping(self) -> None:
        """Return if the backend answers and our credentials work; raise BackendError otherwise."""
        raise NotImplementedError


@contextmanager
def translated(backend: str, doing: str, classify):
    """Re-raise SDK exceptions as BackendError.

    `classify(exc)` returns True (permanent), False (retry may help) or None (not an SDK error:
    let it propagate unchanged).
    """
    try:
        yield
    except BackendError:
        raise
    except Exception as exc:
        permanent = classify(exc)
        if permanent is None:
            raise
        raise BackendError(f"{doing}: {type(exc).__name__}: {exc}", permanent=permanent, backend=backend) from exc
