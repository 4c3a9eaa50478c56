"""Rotation hooks: tell an API provider about a step of a blue-green rotation, the way AWS's
rotation-function contract does, over HTTP.

    POST <hook url>
    Content-Type: application/json
    X-Candlefish-Signature: sha256=<hex HMAC-SHA256 of the raw body with the hook's key>

    {"step": "set" | "test" | "retire", "run": "<run token>", "backend": "vault",
     "secret": "<path or ARN>", "version_id": "<the version this step is about>",
     "pending": "<where the pending value is>", "sent_at": <unix seconds>}

Never a value: the provider fetches the pending (set, test) or current (retire) value from the
backend itself, with its own credentials, and checks `sent_at` against replays. Steps are
idempotent on the provider's side too (the same run token may come again after a crash).
Answers: 2xx done; 4xx (not 408/429) refused for good; anything else is retried.
"""

import json
import time

import requests
from django.conf import settings
from django.db.models import F, Q

from secrets_admin.rotation.models import RotationHook
from secrets_admin.rotation.signing import sign
from secrets_admin.rotation.strategies.base import StepFailed

SIGNATURE_HEADER = "X-Candlefish-Signature"


def hook_for(secret) -> RotationHook | None:
    """The secret's own hook, else its policy's, else None (rotated as a plain value)."""
    if hasattr(secret, "_prefetched_hook"):  # prefetch(): a chunk's runs asked once for all
        return secret._prefetched_hook
    mine = Q(secret=secret) | (Q(policy_id=secret.rotation_policy_id) if secret.rotation_policy_id else Q())
    return RotationHook.objects.filter(mine).order_by(F("secret_id").asc(nulls_last=True)).first()


def prefetch(secrets) -> None:
    """hook_for() of many secrets in one query (a rotation chunk's): each remembers its answer,
    so the chunk's steps do not ask once per run. Hooks are one per secret and one per policy."""
    secrets = list(secrets)
    policies = {s.rotation_policy_id for s in secrets if s.rotation_policy_id}
    found = list(RotationHook.objects.filter(Q(secret__in=secrets) | Q(policy_id__in=policies)))
    own = {hook.secret_id: hook for hook in found if hook.secret_id}
    shared = {hook.policy_id: hook for hook in found if hook.policy_id}
    for secret in secrets:
        secret._prefetched_hook = own.get(secret.pk) or shared.get(secret.rotation_policy_id)


def call(
    hook: RotationHook, step: str, *, run_token: str, secret, version_id: str, pending: str = ""
) -> None:
    """POST one step to the hook; StepFailed (permanent for a refusal) when it did not work."""
    body = json.dumps(
        {"step": step, "run": run_token, "backend": secret.backend, "secret": secret.path,
         "version_id": str(version_id), "pending": pending, "sent_at": int(time.time())},
        sort_keys=True,
    ).encode()  # fmt: skip
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(hook.signing_key, body)}
    try:
        answer = requests.post(hook.url, data=body, headers=headers, timeout=settings.ROTATION_HOOK_TIMEOUT)
    except requests.RequestException as exc:
        raise StepFailed(f"the rotation hook at {hook.host} did not answer ({type(exc).__name__})") from None
    if 200 <= answer.status_code < 300:
        return
    said = _said(answer)
    permanent = 400 <= answer.status_code < 500 and answer.status_code not in (408, 429)
    words = f"the rotation hook at {hook.host} answered {answer.status_code} to {step}"
    raise StepFailed(f"{words}: {said}" if said else words, permanent=permanent)


def _said(answer) -> str:
    """The provider's reason, short: its JSON "error" field (providers word it; never a value)."""
    try:
        text = str(answer.json().get("error", ""))
    except (ValueError, AttributeError):
        return ""
    return " ".join(text.split())[:200]
