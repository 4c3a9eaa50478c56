"""What to tell a person when a backend refuses: the cause and what to do next, in words.

The BackendError's message (SDK text, hosts, codes) goes to the log only; pages show `advice()`.
"""

from django.conf import settings

from console.middleware import current_request_id
from secrets_admin.backends.base import BackendError

LABELS = {"vault": "OpenBao", "aws": "AWS Secrets Manager"}
PATH_EXAMPLES = {
    "vault": "a KV path such as secret/payments/api-key",
    "aws": "the secret's name, such as payments/api-key",
}

# (words the adapter's reason starts with or contains, what to tell the person), first match wins.
ADVICE = (
    ("not found", "That path does not exist in {label}: check the mount and path."),
    ("already exists", "{label} already has a secret at that path: choose another path, or import that one."),
    ("not a path", "That is not a path the console manages in {label}: use {example}."),
    ("read-only", "{label} keeps this secret's metadata read-only: only KV and AWS secrets can be edited."),
    (
        "permission denied",
        "{label} refused the console access to that path: ask the people who run {label} "
        "to check the console's policy.",
    ),
    ("credentials", "{label} did not accept the console's credentials: ask an administrator to check them."),
    ("sealed", "{label} is sealed: it must be unsealed before the console can use it. Try again then."),
    ("unavailable", "{label} is unavailable (sealed, standby or maintenance): try again when it is back."),
    ("unreachable", "The console cannot reach {label} right now: try again in a minute."),
    ("timed out", "{label} did not answer in time: try again in a minute."),
    ("rate limited", "{label} is busy: try again in a minute."),
    ("request rejected", "{label} rejected the request: check the path and the values, then try again."),
    (
        "metadata not written",
        "The secret was created in {label}, but its metadata was not written: edit its metadata to "
        "write it again.",
    ),
)


def label(backend: str) -> str:
    """'OpenBao' or 'AWS Secrets Manager' (with the connection's name when there are several)."""
    kind = (settings.SECRET_BACKENDS.get(backend) or {}).get("kind", "")
    name = LABELS.get(kind, backend or "The backend")
    return name if backend == kind or not backend else f"{name} ({backend})"


def advice(exc: BackendError) -> str:
    """One or two sentences a person can act on; never the SDK's text."""
    reason = exc.reason or ""
    kind = (settings.SECRET_BACKENDS.get(exc.backend) or {}).get("kind", "")
    words = {"label": label(exc.backend), "example": PATH_EXAMPLES.get(kind, "a path it walks")}
    if reason == "refused input":  # the console's own check: its message says what to fix
        text = str(exc).removeprefix(f"{exc.backend}: ").rstrip(".")
        return text[:1].upper() + text[1:] + "."
    for key, text in ADVICE:
        if key in reason:
            return text.format(**words)
    return (
        f"{words['label']} refused the request. The details are in the console's log "
        f"(request id {current_request_id()})."
    )
