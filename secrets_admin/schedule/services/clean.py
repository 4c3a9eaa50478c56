"""Input checks shared by the schedule's services and forms. Each returns cleaned values or
raises ValidationError saying what to fix; services call them before a code is spent."""

from datetime import datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone

from secrets_admin.inventory.models.choices import Strategy
from secrets_admin.schedule.windows import zone

MAX_DAYS = 3650
MAX_HOURS = 720
MAX_ATTEMPTS = 20
MAX_EXEMPTION = timedelta(days=366)
WINDOW_FIELDS = ("window_days", "window_start", "window_end", "window_tz")


def _number(values, name, label, low, high, *, optional=True):
    value = values.get(name)
    if value in (None, ""):
        if optional:
            return None
        raise ValidationError({name: f"Enter the {label}."})
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationError({name: f"The {label} must be a whole number."}) from None
    if not low <= number <= high:
        raise ValidationError({name: f"The {label} must be between {low} and {high}."})
    return number


def _time(value, name, label):
    if value in (None, ""):
        return None
    if isinstance(value, time):
        return value.replace(second=0, microsecond=0)
    try:
        return time.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationError({name: f"The {label} must be a time like 22:00."}) from None


def window(values) -> dict:
    """Days (0 = Monday), start, end and zone of a rotation window; no days: no window (the
    hours are cleared with them). The zone is always checked, as an IANA name."""
    raw_days = values.get("window_days") or []
    try:
        days = sorted({int(d) for d in raw_days})
    except (TypeError, ValueError):
        raise ValidationError({"window_days": "Pick days of the week from the list."}) from None
    if any(d < 0 or d > 6 for d in days):
        raise ValidationError({"window_days": "Pick days of the week from the list."})
    start = _time(values.get("window_start"), "window_start", "window's start")
    end = _time(values.get("window_end"), "window_end", "window's end")
    tz_name = str(values.get("window_tz") or "UTC").strip()
    try:
        zone(tz_name)
    except ValueError as exc:
        raise ValidationError({"window_tz": str(exc)}) from None
    if not days:
        if start is not None or end is not None:
            raise ValidationError(
                {"window_days": "Pick at least one day for the window, or clear its start and end."}
            )
        return {"window_days": [], "window_start": None, "window_end": None, "window_tz": tz_name}
    if start is None or end is None:
        raise ValidationError({"window_start": "Give the window both a start and an end time."})
    return {"window_days": days, "window_start": start, "window_end": end, "window_tz": tz_name}


def strategy(value, *, optional: bool) -> str:
    value = str(value or "").strip()
    if not value and optional:
        return ""
    if value not in Strategy.values:
        raise ValidationError({"strategy": f"Choose a strategy: {', '.join(Strategy.values)}."})
    return value


def policy(values) -> dict:
    cleaned = {
        "interval_days": _number(values, "interval_days", "interval in days", 1, MAX_DAYS),
        "lead_days": _number(values, "lead_days", "lead in days", 0, MAX_DAYS, optional=False),
        "strategy": strategy(values.get("strategy"), optional=False),
        "overlap_hours": _number(values, "overlap_hours", "overlap in hours", 0, MAX_HOURS, optional=False),
        "grace_hours": _number(values, "grace_hours", "grace period in hours", 1, MAX_HOURS, optional=False),
        "max_attempts": _number(values, "max_attempts", "number of tries", 1, MAX_ATTEMPTS, optional=False),
    }
    if cleaned["interval_days"] is None and not cleaned["lead_days"]:
        raise ValidationError(
            {"interval_days": "Give an interval, or a lead in days before expiry (for certificates)."}
        )
    return {**cleaned, **window(values)}


def override(values, *, now: datetime | None = None) -> dict:
    now = now or timezone.now()
    cleaned = {
        "interval_days": _number(values, "interval_days", "interval in days", 1, MAX_DAYS),
        "lead_days": _number(values, "lead_days", "lead in days", 0, MAX_DAYS),
        "strategy": strategy(values.get("strategy"), optional=True),
        **window(values),
    }
    until = values.get("exempt_until") or None
    reason = " ".join(str(values.get("exempt_reason") or "").split())
    if isinstance(until, str):
        raise ValidationError({"exempt_until": "Give the exemption's end as a date and time."})
    if until is not None:
        if timezone.is_naive(until):
            raise ValidationError({"exempt_until": "Give the exemption's end with its time zone."})
        if until <= now:
            raise ValidationError({"exempt_until": "The exemption must end in the future."})
        if until > now + MAX_EXEMPTION:
            raise ValidationError({"exempt_until": "An exemption may last at most a year; renew it then."})
        if not reason:
            raise ValidationError(
                {"exempt_reason": "Say why this secret is exempt (it goes in the audit log)."}
            )
        if len(reason) > 1000:
            raise ValidationError({"exempt_reason": "Keep the reason under 1,000 characters."})
    elif reason:
        raise ValidationError({"exempt_until": "An exemption needs an end date (or clear the reason)."})
    cleaned.update(exempt_until=until, exempt_reason=reason if until else "")
    if not any(
        cleaned[k] not in (None, "", []) for k in ("interval_days", "lead_days", "strategy", "window_days")
    ):
        if until is None:
            raise ValidationError("Nothing is overridden: set something, or remove the override.")
    return cleaned


def link_reason(value) -> str:
    reason = " ".join(str(value or "").split())
    if not reason:
        raise ValidationError(
            {"reason": "Say why these two must not rotate together (e.g. key and consumer)."}
        )
    if len(reason) > 300:
        raise ValidationError({"reason": "Keep the reason under 300 characters."})
    return reason


def for_audit(value):
    """JSON-safe form of a cleaned value (times as HH:MM, instants as ISO text)."""
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, datetime):
        return value.isoformat()
    return value
