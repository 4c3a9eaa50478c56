"""Password guessing: failures count against the account, whatever text named it.

django-axes locks an (account, client IP) pair after LOGIN_FAILURE_LIMIT failures. The login
box takes a username or an email address in any case, so axes is given `lockout_name()`: the
account's username when the text names one, so `alice`, `ALICE` and `alice@example.test` share
one counter, and a success under any of them clears that account's failures only.

Text that names no account is never stored as typed — it may be a password typed into the wrong
box. Axes and the ledger keep `unknown:` plus a keyed hash of it (`login_text_hash`, HMAC-SHA256
with settings.AUDIT_HMAC_KEY), so repeated guesses of one name still group together.

The security team lifts a lockout with a one-time code (`do_unlock`); a password reset lifts the
account's lockouts too (`clear_after_password_reset`). Both are audited.
"""

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Max, Sum
from django.utils import timezone

from secrets_admin.accounts.access import user_in
from secrets_admin.accounts.stepup import verify_step_up
from secrets_admin.audit.services import record
from secrets_admin.roles import SECURITY_TEAM

UNKNOWN = "unknown:"


def login_text_hash(text: str) -> str:
    """A keyed hash of login text naming no account (trimmed, case-folded): equal texts give
    equal hashes, and without the key nobody can test guesses against it."""
    key = (getattr(settings, "AUDIT_HMAC_KEY", "") or settings.SECRET_KEY).encode()
    normalised = " ".join(str(text).split()).casefold()
    return hmac.new(key, b"login-text\x00" + normalised.encode(), hashlib.sha256).hexdigest()[:32]


def account_named(text: str | None):
    """The active or inactive user `text` names as a username (any case) or an email address,
    or None. An email shared by several accounts names none of them."""
    from allauth.account.utils import filter_users_by_email

    text = (text or "").strip()
    if not text or len(text) > 254:
        return None
    users = get_user_model().objects
    exact = users.filter(username=text).first()
    if exact is not None:
        return exact
    folded = list(users.filter(username__iexact=text)[:2])
    if len(folded) == 1:
        return folded[0]
    if "@" in text:
        found = filter_users_by_email(text)
        if len({user.pk for user in found}) == 1:
            return found[0]
    return None


def lockout_name(text: str | None) -> str | None:
    """The name axes counts failures against: the account's username, or `unknown:<hash>`."""
    if not (text or "").strip():
        return None
    user = account_named(text)
    return user.get_username() if user is not None else UNKNOWN + login_text_hash(text)


def typed_login(request, credentials) -> str | None:
    """The login text of an attempt, from allauth's credentials or the posted form."""
    credentials = credentials or {}
    for key in ("username", "email", "login"):
        if credentials.get(key):
            return str(credentials[key])
    if request is not None and request.method == "POST":
        return request.POST.get("login") or None
    return None


def axes_username(request, credentials) -> str | None:
    """AXES_USERNAME_CALLABLE."""
    return lockout_name(typed_login(request, credentials))


def subject(name: str | None) -> tuple[object, dict]:
    """(user or None, audit data) for a lockout name or typed login text: the account when it
    names one (marked unverified: nobody proved they are that person), else the keyed hash."""
    name = name or ""
    if name.startswith(UNKNOWN):
        return None, {"login_hash": name[len(UNKNOWN) :]}
    user = account_named(name)
    if user is None:
        return None, {"login_hash": login_text_hash(name)} if name else {}
    return user, {"subject": "unverified"}


def attempts_left(request, credentials) -> int:
    """Wrong passwords this client may still try for the account before it is locked."""
    failures = AxesProxyHandler.get_failures(request, credentials)
    return max(0, get_failure_limit(request, credentials) - failures)


@dataclass
class Lockout:
    user: object
    ips: list
    failures: int
    last_failure: datetime
    until: datetime


def locked_accounts() -> list[Lockout]:
    """Accounts locked out now (from at least one IP), newest first. Unknown names are left out:
    there is no account to unlock."""
    limit = get_failure_limit(None, None)
    since = timezone.now() - get_cool_off()
    rows = (
        AccessAttempt.objects.filter(attempt_time__gte=since, failures_since_start__gte=limit)
        .exclude(username__startswith=UNKNOWN)
        .values("username")
        .annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
        .order_by("-last")
    )
    users = get_user_model().objects.in_bulk([row["username"] for row in rows], field_name="username")
    found = []
    for row in rows:
        user = users.get(row["username"])
        if user is None:
            continue
        ips = sorted(
            AccessAttempt.objects.filter(username=row["username"], failures_since_start__gte=limit)
            .filter(attempt_time__gte=since)
            .values_list("ip_address", flat=True)
        )
        found.append(Lockout(user, ips, row["failures"], row["last"], row["last"] + get_cool_off()))
    return found


def _clear(user) -> tuple[int, list[str]]:
    attempts = AccessAttempt.objects.select_for_update().filter(username=user.get_username())
    ips = sorted({ip for ip in attempts.values_list("ip_address", flat=True) if ip})
    deleted = attempts.delete()[1].get(AccessAttempt._meta.label, 0)
    return deleted, ips


def do_unlock(*, actor, user, otp_code: str, request=None) -> int:
    """Lift every lockout of `user` (all IPs). Returns how many attempt records were cleared
    (0: nothing was locked, nothing recorded). Raises PermissionDenied (not security-team) or
    StepUpFailed (code)."""
    if not user_in(actor, SECURITY_TEAM):
        raise PermissionDenied("Only the security team lifts lockouts.")
    with transaction.atomic():
        verify_step_up(actor, otp_code, purpose=f"auth.lockout.cleared:{user.pk}", request=request)
        cleared, ips = _clear(user)
        if cleared:
            record(
                "auth.lockout.cleared",
                actor=actor,
                target=user,
                data={"reason": "unlocked", "ips": ips, "username": user.get_username()},
                request=request,
            )
    return cleared


def clear_after_password_reset(user, request=None) -> int:
    """A reset proves control of the account's mailbox: its lockouts end with it. Call inside the
    transaction that records the reset."""
    cleared, ips = _clear(user)
    if cleared:
        record(
            "auth.lockout.cleared",
            actor=user,
            target=user,
            data={"reason": "password_reset", "ips": ips, "username": user.get_username()},
            request=request,
        )
    return cleared
