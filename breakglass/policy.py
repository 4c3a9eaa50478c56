"""What a request may ask for: durations, reasons, approver groups and scope.

Every check raises `RequestRefused` (a ValidationError whose message names what to fix and whose
`field` says which input), so forms, the CLI and services refuse with the same words.
"""

import re
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.utils import timezone

from breakglass.models.request import Kind
from secrets_admin.roles import CTO, DEVELOPERS, SECURITY_TEAM

REQUESTERS = (DEVELOPERS, SECURITY_TEAM, CTO)
MIN_REASON_CHARS = 20
MIN_REASON_WORDS = 4
MAX_SCOPE = 50
_DURATION = re.compile(r"^\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?\s*$", re.IGNORECASE)
GRANTABLE_KINDS = ("api_key", "password", "generic", "database", "certificate")


class RequestRefused(ValidationError):
    def __init__(self, message: str, *, field: str | None = None, why: str = "invalid"):
        super().__init__(message, code=why)
        self.field = field
        self.why = why


def default_groups(kind: str) -> list[str]:
    return [SECURITY_TEAM, CTO] if kind == Kind.BREAK_GLASS else [SECURITY_TEAM]


def max_seconds(kind: str) -> int:
    hours = settings.BREAKGLASS_MAX_HOURS if kind == Kind.BREAK_GLASS else settings.ACCESS_MAX_HOURS
    return hours * 3600


def default_seconds(kind: str) -> int:
    return min(settings.BREAKGLASS_DEFAULT_HOURS * 3600, max_seconds(kind))


def parse_duration(text) -> int:
    """ "4h", "90m", "1h30m", "2" (hours) -> seconds. RequestRefused for anything else."""
    text = str(text or "").strip()
    if text.isdigit():
        return int(text) * 3600
    match = _DURATION.match(text)
    if not text or not match or not any(match.groups()):
        raise RequestRefused(
            f"Duration {text!r} is not a duration: write it like 4h, 90m or 1h30m.", field="duration"
        )
    hours, minutes = (int(part or 0) for part in match.groups())
    return hours * 3600 + minutes * 60


def check_kind(kind: str) -> str:
    if kind not in Kind.values:
        raise RequestRefused(f"Kind must be one of {', '.join(Kind.values)}.", field="kind")
    return kind


def check_duration(kind: str, seconds: int) -> int:
    cap = max_seconds(kind)
    if seconds < 15 * 60:
        raise RequestRefused("Ask for at least 15 minutes of access.", field="duration", why="too_short")
    if seconds > cap:
        label = Kind(kind).label.lower()
        raise RequestRefused(
            f"{Kind(kind).label} access lasts at most {cap // 3600} h; "
            f"{seconds / 3600:g} h is too long for {label}. Ask for {cap // 3600} h or less.",
            field="duration",
            why="too_long",
        )
    return seconds


def check_reason(reason: str) -> str:
    reason = " ".join(str(reason or "").split())
    words = re.findall(r"[^\W\d_]{2,}", reason)
    if len(reason) < MIN_REASON_CHARS or len(words) < MIN_REASON_WORDS:
        raise RequestRefused(
            f"Say why in a real sentence: at least {MIN_REASON_WORDS} words and {MIN_REASON_CHARS} "
            "characters (what is broken, what you will do).",
            field="reason",
            why="reason_too_short",
        )
    if len(reason) > 2000:
        raise RequestRefused("Keep the reason under 2,000 characters.", field="reason")
    return reason


def check_groups(kind: str, groups) -> list[str]:
    """The approver groups: each existing, no repeats; break-glass keeps security-team and cto."""
    names = [g.strip() for g in (groups or []) if g and g.strip()] or default_groups(kind)
    if len(set(names)) != len(names):
        raise RequestRefused("Name each approver group once.", field="groups")
    unknown = sorted(set(names) - set(Group.objects.filter(name__in=names).values_list("name", flat=True)))
    if unknown:
        raise RequestRefused(
            f"Unknown approver group: {', '.join(unknown)}.", field="groups", why="unknown_group"
        )
    required = set(default_groups(kind))
    if not required <= set(names):
        raise RequestRefused(
            f"{Kind(kind).label} needs an approval from {' and '.join(sorted(required))}; keep "
            f"{'them' if len(required) > 1 else 'it'} in the approver groups.",
            field="groups",
        )
    return names


def check_scope(paths, *, requester) -> list[dict]:
    """Inventory paths -> scope items. Refuses unknown paths and what cannot be granted."""
    from secrets_admin.backends import get_backend
    from secrets_admin.backends.base import BackendError
    from secrets_admin.backends.vault_tokens import certificate_stanza, grant_paths
    from secrets_admin.inventory.models import Secret
    from secrets_admin.inventory.models.choices import Status

    wanted = []
    for path in paths or []:
        path = str(path).strip()
        if path and path not in wanted:
            wanted.append(path)
    if not wanted:
        raise RequestRefused("Name at least one secret or path from the inventory.", field="scope")
    if len(wanted) > MAX_SCOPE:
        raise RequestRefused(f"Ask for at most {MAX_SCOPE} paths in one request.", field="scope")
    found = {s.path: s for s in Secret.objects.filter(path__in=wanted)}
    items = []
    for path in wanted:
        secret = found.get(path)
        if secret is None:
            raise RequestRefused(
                f"{path} is not in the inventory: check the path.", field="scope", why="unknown_path"
            )
        backend_kind = settings.SECRET_BACKENDS.get(secret.backend, {}).get("kind")
        if backend_kind != "vault" or secret.kind not in GRANTABLE_KINDS or secret.status == Status.MISSING:
            raise RequestRefused(
                f"{path} cannot be granted: only OpenBao KV secrets, database roles and certificates "
                "that exist can.",
                field="scope",
                why="not_grantable",
            )
        item = {
            "secret": secret.pk,
            "backend": secret.backend,
            "path": secret.path,
            "environment": secret.environment,
        }
        try:
            backend = get_backend(secret.backend)
            api_paths = grant_paths(backend, secret.path)
            if secret.kind == "certificate":
                item["names"] = certificate_names(secret)
                certificate_stanza(backend, api_paths[0], [item["names"]], timezone.now())
        except BackendError:
            raise RequestRefused(
                f"{path} cannot be granted: only OpenBao KV secrets, database roles and certificates "
                "with plain DNS names can.",
                field="scope",
                why="not_grantable",
            ) from None
        items.append(item)
    if len({item["backend"] for item in items}) > 1:
        raise RequestRefused("Ask for paths of one OpenBao at a time (one token per request).", field="scope")
    return items


def certificate_names(secret) -> list[str]:
    """A certificate's common name, then its other DNS names (from the inventory's metadata):
    the only names a certificate grant may issue for."""
    details = secret.details or {}
    common = details.get("common_name") or ""
    names = [common] + [n for n in details.get("dns_names") or [] if n != common]
    return names if common else []


def pending_window() -> timedelta:
    return timedelta(minutes=settings.BREAKGLASS_PENDING_MINUTES)
