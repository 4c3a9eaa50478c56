"""Backend facts in words: `Secret.details` and `Secret.rotation` (JSON the adapters fill) as
labelled lines a person reads — "Enabled: no", "TTL: 4 days" — never Python reprs."""

from datetime import UTC, datetime

from django.utils import timezone

# key -> (label, how the value reads). Unknown keys still show, with a label made from the key.
DURATIONS = {"ttl", "max_ttl", "rotation_period"}
LABELS = {
    # KV v2
    "current_version": "Current version",
    "max_versions": "Versions kept",
    "cas_required": "Check-and-set required",
    # PKI
    "serial": "Serial number",
    "common_name": "Common name",
    "subject": "Subject",
    "issuer": "Issuer",
    "not_before": "Valid from",
    "not_after": "Valid until",
    "dns_names": "DNS names",
    "is_ca": "Certificate authority",
    "revoked": "Revoked",
    "revoked_at": "Revoked at",
    # database engine
    "object": "Object",
    "plugin": "Plugin",
    "connection_url": "Connection URL",
    "username": "Database user",
    "allowed_roles": "Allowed roles",
    "role_type": "Role type",
    "connection": "Connection",
    "credential_type": "Credential type",
    "outstanding_leases": "Outstanding leases",
    # AWS
    "arn": "ARN",
    "name": "Name",
    "description": "Description",
    "kms_key_id": "KMS key",
    "owning_service": "Managed by",
    "primary_region": "Primary region",
    "deleted_date": "Scheduled for deletion on",
    # rotation, as the backend itself has it
    "enabled": "Enabled",
    "dynamic": "Credentials per lease",
    "interval_days": "Every",
    "ttl": "TTL",
    "max_ttl": "Maximum TTL",
    "rotation_period": "Rotation period",
    "last_vault_rotation": "Last rotated by OpenBao",
    "schedule": "Schedule",
    "window": "Window",
    "lambda": "Rotation Lambda",
    "next_rotation": "Next rotation",
    "root_rotation_statements": "Root credential rotation statements",
    "problems": "Problems",
}
SPECIAL = {
    "max_versions": lambda v: "the mount's default" if v in (0, None) else str(v),
    "interval_days": lambda v: duration(int(v) * 86400) if v else "not set",
    "outstanding_leases": lambda v: "unknown" if v is None else str(v),
}


UNITS = (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1))


def duration(seconds) -> str:
    """The largest unit and the next one, when not zero: 4 days · 1 day 2 hours · 1 hour 30
    minutes · 45 seconds · none. (A certificate's 4 days and 30 s of clock skew read "4 days".)"""
    try:
        seconds = int(seconds)
    except (TypeError, ValueError):
        return str(seconds)
    if seconds <= 0:
        return "none"
    first = next(i for i, (_, size) in enumerate(UNITS) if seconds >= size)
    parts = []
    for unit, size in UNITS[first : first + 2]:
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count} {unit}{'' if count == 1 else 's'}")
    return " ".join(parts)


def _moment(value: str) -> str | None:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if timezone.is_naive(moment):
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def words(key: str, value) -> str:
    if key in SPECIAL:
        return SPECIAL[key](value)
    if key in DURATIONS:
        return duration(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None or value == "":
        return "not set"
    if isinstance(value, list | tuple):
        return "; ".join(words(key, v) for v in value) if value else "none"
    if isinstance(value, dict):
        return "; ".join(f"{label(k)}: {words(k, v)}" for k, v in value.items()) or "none"
    if isinstance(value, str):
        return _moment(value) or value
    return str(value)


def label(key: str) -> str:
    return LABELS.get(key) or str(key).replace("_", " ").capitalize()


def facts(mapping) -> list[tuple[str, str]]:
    """[(label, value in words)] in LABELS' order (the database may reorder JSON keys), unknown
    keys last; nothing when `mapping` is empty."""
    if not isinstance(mapping, dict):
        return []
    order = {key: i for i, key in enumerate(LABELS)}
    keys = sorted(mapping, key=lambda k: (order.get(k, len(order)), str(k)))
    return [(label(key), words(key, mapping[key])) for key in keys]
