"""The contract every secret backend adapter follows.

Adapters wrap one SDK each (only vault.py imports hvac, only aws.py imports boto3) and turn every
SDK or network failure into `BackendError`, whose `permanent` flag says whether retrying can help.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

KINDS = ("api_key", "password", "database", "certificate", "generic")
ENVIRONMENTS = ("development", "staging", "production")
# Metadata keys the console owns in KV custom_metadata / AWS tags (lowercase).
CONSOLE_KEYS = ("owner", "purpose", "environment", "kind")


class BackendError(Exception):
    """A backend call failed. permanent=True: retrying will not help (denied, bad path, bad input).

    The message is for logs (it may quote the SDK's text: hosts, mounts, codes). `reason` names
    the cause in a few words ("not found", "sealed", "unreachable", "permission denied", "already
    exists", "not a path", "refused input"), from which `backends.advice()` tells a person what to do.
    """

    def __init__(self, message: str, *, permanent: bool, backend: str = "", reason: str = ""):
        super().__init__(message)
        self.permanent = permanent
        self.backend = backend
        self.reason = reason

    def __str__(self):
        prefix = f"{self.backend}: " if self.backend else ""
        return prefix + super().__str__()


@dataclass(frozen=True)
class RemoteVersion:
    version_id: str  # KV: "3"; AWS: VersionId; PKI: serial; database: lease/rotation marker
    created_at: datetime | None
    stages: tuple[str, ...] = ()  # AWS stages (AWSCURRENT, AWSPREVIOUS, AWSPENDING); KV: ()
    current: bool = False
    deprecated: bool = False  # KV deletion_time set (soft-deleted) / AWS version without stages
    destroyed: bool = False  # KV destroyed
    created_by: str = ""  # from KV custom_metadata "candlefish-run" / AWS tag when present


@dataclass(frozen=True)
class RemoteSecret:
    backend: str  # the connection name ("vault", "aws", ...)
    path: str  # stable id inside the backend ("secret/payments/stripe-api-key", "pki/cert/<serial>", ARN)
    name: str  # human name (last path segment / AWS Name)
    kind: str  # api_key | password | database | certificate | generic
    created_at: datetime | None
    updated_at: datetime | None
    last_rotated: datetime | None
    last_accessed: datetime | None = None
    expires_at: datetime | None = None  # certificates not_after, leases
    metadata: dict = field(default_factory=dict)  # owner, purpose, environment, kind (str -> str)
    tags: dict = field(default_factory=dict)  # other tags / custom_metadata (str -> str)
    versions: tuple[RemoteVersion, ...] = ()
    rotation: dict = field(default_factory=dict)  # {"enabled": bool, "interval_days": int, "ttl": ..., ...}
    details: dict = field(default_factory=dict)  # backend-specific facts, JSON-safe, never a value


@dataclass(frozen=True)
class ListingProblem:
    backend: str
    path: str
    error: "BackendError"


class SecretBackend:
    """Base class: one instance per named connection in settings.SECRET_BACKENDS."""

    kind = ""

    def __init__(self, name: str, config: dict):
        self.name = name
        self.config = config

    def ping(self) -> None:
        """Return if the backend answers and our credentials work; raise BackendError otherwise."""
        raise NotImplementedError

    def writable_metadata(self, path: str) -> bool:
        """Whether write_metadata can work for this path (KV and AWS yes; PKI, database no)."""
        return False

    def check_path(self, path: str, *, creating: bool = False) -> None:
        """Refuse, before any call, a path a person typed that is not a plain path of this backend
        (of a kind that can be created, with `creating`): BackendError(reason="refused input"),
        whose message says what to fix."""
        from secrets_admin.backends import paths

        paths.parts(self.name, path)

    def iter_secrets(self) -> Iterator[RemoteSecret | ListingProblem]:
        """Walk everything. A failure on one item yields a ListingProblem and the walk goes on;
        a failure that stops the whole walk (down, sealed, denied on the root) raises BackendError."""
        raise NotImplementedError

    def describe(self, path: str) -> RemoteSecret:
        """One secret; BackendError(permanent=True) if it does not exist."""
        raise NotImplementedError

    def write_metadata(self, path: str, metadata: dict[str, str]) -> None:
        """Merge console-owned metadata into the backend (KV custom_metadata / AWS tags)."""
        raise NotImplementedError

    def create_secret(self, path: str, *, kind: str, metadata: dict[str, str]) -> RemoteSecret:
        """Create a secret holding a freshly generated value that is never returned, logged or
        stored; BackendError(permanent=True) if the path already exists."""
        raise NotImplementedError

    # --- rotation values (KV v2 and AWS; see vault_values.py / aws_values.py) ------------------
    # Each is idempotent by run token; values travel only between memory and the backend.
    # An adapter that holds values names the module serving them; each function there takes
    # the adapter first.
    values = None

    def _values(self):
        if self.values is None:
            raise NotImplementedError(f"{self.kind} backends hold no rotatable values")
        return self.values

    def current_version(self, path: str) -> str:
        """The id of the version readers get now (KV: number; AWS: AWSCURRENT's VersionId)."""
        return self._values().current_version(self, path)

    def write_pending(self, path: str, value: str, *, token: str, cas=None) -> str:
        """Stage `value` as run `token`'s pending value, from version `cas` (KV); returns the
        version id it has (AWS) or will have once promoted (KV). A re-run writes nothing."""
        return self._values().write_pending(self, path, value, token=token, cas=cas)

    def pending_location(self, path: str) -> str:
        """Where a provider finds the pending value (a path or stage name, never the value)."""
        return self._values().pending_location(self, path)

    def read_pending(self, path: str, *, token: str) -> str:
        return self._values().read_pending(self, path, token=token)

    def read_current(self, path: str) -> str:
        return self._values().read_current(self, path)

    def promote(self, path: str, *, token: str) -> str:
        """Make run `token`'s pending value current (the old one kept for the overlap);
        returns the new current version id. A promoted run returns it again."""
        return self._values().promote(self, path, token=token)

    def retire(self, path: str, version_id: str) -> None:
        """After the overlap: KV destroys the old version, AWS takes AWSPREVIOUS off it."""
        return self._values().retire(self, path, version_id)

    def write_anchor(self, path: str, document: dict) -> int:
        """Write `document` (the audit chain head) as a new version at `path`; returns the version."""
        raise NotImplementedError(f"{self.kind} backends cannot hold audit anchors")

    def read_anchor(self, path: str, version: int | None = None) -> tuple[dict, int] | None:
        """(document, version) of the newest anchor at `path` (or of that `version`); None if
        none was written."""
        raise NotImplementedError(f"{self.kind} backends cannot hold audit anchors")


@contextmanager
def translated(backend: str, doing: str, classify, explain=None):
    """Re-raise SDK exceptions as BackendError.

    `classify(exc)` returns True (permanent), False (retry may help) or None (not an SDK error:
    let it propagate unchanged). `explain(exc)` optionally names the cause in words a person can
    act on ("sealed", "unreachable", "permission denied", "not found"); it leads the message.
    """
    try:
        yield
    except BackendError:
        raise
    except Exception as exc:
        permanent = classify(exc)
        if permanent is None:
            raise
        reason = explain(exc) if explain else ""
        detail = " ".join(str(exc).split()).removeprefix("None, ")  # one line; hvac says "None" for no text
        message = (
            f"{doing}: {reason + ' (' if reason else ''}{type(exc).__name__}: {detail}{')' if reason else ''}"
        )
        raise BackendError(message, permanent=permanent, backend=backend, reason=reason) from exc
