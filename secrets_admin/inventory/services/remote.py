"""A backend's description of a secret (RemoteSecret) as inventory fields, and its digest.

Shared by sync (every secret of a walk) and register (one secret)."""

import hashlib
import json
from datetime import UTC

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from secrets_admin.backends.base import RemoteSecret
from secrets_admin.inventory.models.choices import Environment, Kind

KINDS, ENVIRONMENTS = tuple(Kind.values), tuple(Environment.values)  # Django rebuilds .values per call
# Part of every digest: change it when remote_fields or the version reconcile read a RemoteSecret
# differently, so rows stored by the old rules are compared in full once more.
DIGEST_RULES = "1"


def digest(remote: RemoteSecret) -> str:
    """A fingerprint of everything the backend said about one secret (fields, metadata, tags,
    versions; RemoteSecret is a frozen dataclass, its repr lists them all in a fixed order).
    Equal digests: the same description, so the same row and versions as last time."""
    text = DIGEST_RULES + repr(remote)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def aware(value):
    if value is not None and timezone.is_naive(value):
        return timezone.make_aware(value, UTC)
    return value


def _json(value) -> dict:
    return json.loads(json.dumps(value or {}, cls=DjangoJSONEncoder, default=str))


def remote_fields(remote: RemoteSecret) -> dict:
    """Model fields from a backend description. Console-owned metadata (owner, purpose,
    environment) is taken only when the backend has it; bad values become a problem, not a crash."""
    problems = []
    kind = remote.kind if remote.kind in KINDS else Kind.GENERIC
    if remote.kind not in KINDS:
        problems.append(f"kind {remote.kind!r} is not one of {'|'.join(KINDS)}")
    fields = {
        "name": (remote.name or remote.path.rsplit("/", 1)[-1])[:512],
        "kind": kind,
        "tags": {str(k)[:128]: str(v)[:256] for k, v in (remote.tags or {}).items()},
        "created_at": aware(remote.created_at),
        "remote_updated_at": aware(remote.updated_at),
        "last_rotated": aware(remote.last_rotated),
        "last_accessed": aware(remote.last_accessed),
        "expires_at": aware(remote.expires_at),
        "rotation": _json(remote.rotation),
        "details": _json(remote.details),
    }
    meta = {str(k).lower(): str(v).strip() for k, v in (remote.metadata or {}).items() if v is not None}
    if meta.get("owner"):
        if len(meta["owner"]) > 128:
            problems.append("owner is longer than 128 characters")
        else:
            fields["owner_team"] = meta["owner"]
    if meta.get("purpose"):
        fields["purpose"] = meta["purpose"][:2000]
    env = meta.get("environment", "")
    if env in ENVIRONMENTS:
        fields["environment"] = env
    elif env:
        problems.append(f"environment {env!r} is not one of {'|'.join(ENVIRONMENTS)}")
    reported = (remote.details or {}).get("problems") or []
    problems += [str(p)[:500] for p in (reported if isinstance(reported, list | tuple) else [reported])]
    fields["problem"] = "; ".join(dict.fromkeys(problems))[:2000]  # the adapter may report the same
    return fields
