"""Console-owned metadata in backend key/value stores (KV custom_metadata, AWS tags).

Reading is forgiving: anything malformed is kept and reported in `problems`, never fatal.
Writing is strict: `check_update` raises a permanent BackendError before anything is sent.
"""

import re
from datetime import UTC, datetime

from secrets_admin.backends.base import CONSOLE_KEYS, ENVIRONMENTS, KINDS, BackendError

# Keys the console writes itself but that are not user metadata.
RUN_KEY = "candlefish-run"  # id of the rotation run / console action that wrote the current version
AWS_TAG_KEY = re.compile(r"^[\w .:/=+\-@]{1,128}$")
AWS_TAG_VALUE = re.compile(r"^[\w .:/=+\-@]{0,256}$")


def split(raw: dict | None) -> tuple[dict, dict, list[str]]:
    """Split backend key/values into (metadata, tags, problems).

    metadata holds the console keys (lowercased), tags everything else, problems describes
    malformed values (kept as they are, so nothing is lost)."""
    metadata, tags, problems = {}, {}, []
    for key, value in (raw or {}).items():
        value = "" if value is None else str(value)
        if key.lower() in CONSOLE_KEYS:
            metadata[key.lower()] = value
        else:
            tags[str(key)] = value
    if metadata.get("environment") and metadata["environment"] not in ENVIRONMENTS:
        problems.append(f"environment {metadata['environment']!r} is not one of {'|'.join(ENVIRONMENTS)}")
    if metadata.get("kind") and metadata["kind"] not in KINDS:
        problems.append(f"kind {metadata['kind']!r} is not one of {'|'.join(KINDS)}")
    return metadata, tags, problems


def kind_of(metadata: dict, default: str = "generic") -> str:
    kind = metadata.get("kind", "")
    return kind if kind in KINDS else default


def check_update(backend: str, metadata: dict, *, max_key: int, max_value: int, aws: bool = False) -> None:
    """Refuse (permanent BackendError) a metadata update the backend would reject or that the
    console could not read back. An empty value means "remove this key"."""
    problems = []
    if not isinstance(metadata, dict) or not metadata:
        problems.append("nothing to write")
    for key, value in (metadata or {}).items():
        if not isinstance(key, str) or not isinstance(value, str):
            problems.append(f"{key!r}: keys and values must be strings")
            continue
        if not key or len(key.encode()) > max_key:
            problems.append(f"{key!r}: a key must be 1 to {max_key} bytes")
        if len(value.encode()) > max_value:
            problems.append(f"{key}: the value is {len(value.encode())} bytes, at most {max_value} fit")
        if aws and key.lower().startswith("aws:"):
            problems.append(f"{key}: the aws: prefix is reserved")
        if aws and not (AWS_TAG_KEY.match(key) and AWS_TAG_VALUE.match(value)):
            problems.append(f"{key}: AWS tags allow only letters, digits, spaces and _.:/=+-@")
        if key == "environment" and value and value not in ENVIRONMENTS:
            problems.append(f"environment must be one of {'|'.join(ENVIRONMENTS)}, not {value!r}")
        if key == "kind" and value and value not in KINDS:
            problems.append(f"kind must be one of {'|'.join(KINDS)}, not {value!r}")
    if problems:
        raise BackendError(
            "metadata refused: " + "; ".join(problems),
            permanent=True,
            backend=backend,
            reason="refused input",
        )


def parse_time(value) -> datetime | None:
    """RFC 3339 text (Vault, with nanoseconds) or a datetime (boto3) -> aware UTC datetime."""
    if not value:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    text = str(value).strip().replace("Z", "+00:00")
    match = re.match(r"^(.*T\d\d:\d\d:\d\d)(\.\d+)?(.*)$", text)
    if match:  # Python 3.11 parses at most 6 fractional digits
        head, fraction, zone = match.groups()
        text = head + (fraction[:7] if fraction else "") + (zone or "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.year <= 1:  # Vault's zero time "0001-01-01T00:00:00Z" means "never"
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
