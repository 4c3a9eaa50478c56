"""Conditions this app watches itself (beat tasks): certificates close to expiry, and secret
backends that are unreachable or sealed. Each check raises what is wrong now and resolves what
is no longer wrong, so running it again is always safe."""

import time
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from secrets_admin.alerts import events
from secrets_admin.alerts.events import Severity
from secrets_admin.alerts.models import Alert
from secrets_admin.alerts.services import alert_key, raise_alert, resolve_alert

CERTIFICATE_WARNING = timedelta(days=30)
CERTIFICATE_CRITICAL = timedelta(days=7)
SYSTEM_PROBES = ("database", "redis")  # alerting runs on them: if they are down, nothing here runs
PROBE_RECHECK_SECONDS = 2.0  # a failed probe is tried once more before anyone is paged


def check_certificates(now=None) -> dict:
    """Raise `certificate.expiring` for every certificate in the inventory that expires within
    30 days (critical within 7, or already expired) and has no renewal yet — another valid
    certificate for the same common name in the same backend that outlives the 30 days.
    Missing and revoked certificates need no renewal. Resolves the rest.
    Returns {"raised": [secret ids], "resolved": n}."""
    from secrets_admin.inventory.models import Secret
    from secrets_admin.inventory.models.choices import Kind, Status

    now = now or timezone.now()
    certificates = (
        Secret.objects.filter(kind=Kind.CERTIFICATE, expires_at__isnull=False)
        .exclude(status=Status.MISSING)
        .exclude(details__revoked=True)
    )
    latest: dict[tuple, object] = {}  # (backend, common name) -> the latest expiry
    for backend, name, expires in certificates.values_list("backend", "details__common_name", "expires_at"):
        if name:
            key = (backend, name)
            latest[key] = max(latest.get(key, expires), expires)
    raised = []
    for secret in certificates.filter(expires_at__lte=now + CERTIFICATE_WARNING).order_by("expires_at"):
        name = secret.details.get("common_name", "")
        if name and latest[(secret.backend, name)] > now + CERTIFICATE_WARNING:
            continue  # renewed: the replacement is listed beside it until the old one expires
        raise_alert(events.CERTIFICATE_EXPIRING, target=secret, **_expiry(secret, now))
        raised.append(secret.pk)
    keep = {alert_key(events.CERTIFICATE_EXPIRING, Secret(pk=pk)) for pk in raised}
    open_keys = Alert.objects.filter(event=events.CERTIFICATE_EXPIRING, state=Alert.State.OPEN)
    resolved = [key for key in open_keys.values_list("key", flat=True) if key not in keep]
    for key in resolved:
        resolve_alert(key)
    return {"raised": raised, "resolved": len(resolved)}


def _expiry(secret, now) -> dict:
    left = secret.expires_at - now
    days = left.days
    name = secret.details.get("common_name") or secret.name
    if left <= timedelta(0):
        when = f"expired {abs(days)} day{'s' if abs(days) != 1 else ''} ago"
    elif days == 0:
        when = "expires today"
    else:
        when = f"expires in {days} day{'s' if days != 1 else ''}"
    return {
        "subject": f"Certificate {name} in {secret.backend} {when}",
        "severity": Severity.CRITICAL if left <= CERTIFICATE_CRITICAL else Severity.WARNING,
        "facts": {
            "backend": secret.backend,
            "path": secret.path,
            "common_name": name,
            "serial": secret.details.get("serial", ""),
            "expires_at": secret.expires_at.isoformat(),
            "days_left": days,
        },
    }


def check_backends() -> dict[str, bool]:
    """Run the readiness probes of the secret backends (settings.READINESS_PROBES without the
    database and Redis); raise `backend.unavailable` for each that fails twice in a row, resolve
    it when the probe passes. Returns {probe name: ok}."""
    results = {}
    for name, dotted in settings.READINESS_PROBES.items():
        if name in SYSTEM_PROBES:
            continue
        error = _probe(dotted)
        if error:
            time.sleep(PROBE_RECHECK_SECONDS)  # one blip is not worth a page
            error = _probe(dotted)
        key = alert_key(events.BACKEND_UNAVAILABLE, None, name)
        results[name] = not error
        if not error:
            resolve_alert(key)
            continue
        state = "sealed" if "sealed" in error.lower() else "unreachable"
        raise_alert(
            events.BACKEND_UNAVAILABLE,
            key=key,
            subject=f"Secret backend {name} is {state}",
            facts={"backend": name, "state": state, "error": error},
        )
    return results


def _probe(dotted: str) -> str:
    """'' when the probe passes, else its error in words."""
    try:
        import_string(dotted)()
    except Exception as exc:  # a probe reports any failure
        return f"{type(exc).__name__}: {exc}"[:300]
    return ""
