"""The weekly digest: the headline numbers and each framework's score, mailed to the managers
with what changed since last week's snapshot.

`send_weekly_digest(now)` (beat `compliance.weekly_digest`, Mondays 07:00 UTC) is idempotent per
week: one short transaction stores this week's snapshot (unique per week, audited
`compliance.digest.recorded`), the mail goes out with no transaction open, and a second short
transaction records it sent (audited `compliance.digest.sent`); the week is claimed by one
conditional UPDATE before the mail, so two runs at once send one mail. A run that finds the week already
sent does nothing; one that finds it recorded but unsent (the mail server was down) sends it.
Numbers and words only: the digest is built from aggregates, never from a secret's value.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from secrets_admin.audit.services import record
from secrets_admin.compliance import actions
from secrets_admin.compliance.models import WeeklySnapshot
from secrets_admin.compliance.services import scoring
from secrets_admin.roles import MANAGERS

log = logging.getLogger(__name__)
UP, DOWN = "up", "down"  # which way is better

# (figure, label, which way is better)
FIGURES = [
    ("secrets", "Secrets in the inventory", None),
    ("overdue", "Overdue rotations", DOWN),
    ("due_soon", "Rotations due soon", None),
    ("success_7", "Rotation success, last 7 days (%)", UP),
    ("success_30", "Rotation success, last 30 days (%)", UP),
    ("success_90", "Rotation success, last 90 days (%)", UP),
    ("active_grants", "Active grants", None),
    ("pending_approvals", "Requests waiting for approval", DOWN),
    ("mfa_rate", "MFA coverage of privileged people (%)", UP),
    ("mfa_missing", "Privileged people without MFA", DOWN),
    ("audit_chain", "Audit chain", None),
    ("open_breaks", "Open breaks of the audit chain", DOWN),
    ("backends_down", "Backends down or sealed", DOWN),
]


def headline(now: datetime) -> dict:
    """The dashboard's headline numbers (secrets_admin.dashboard.services.headline): the one
    place the digest reads them from."""
    from secrets_admin.dashboard.services.headline import headline_numbers

    return headline_numbers(now)


def numbers(now: datetime) -> dict:
    """This week's figures, flat: {figure: number, or a word for the chain's state}."""
    top = headline(now)
    rates = {w["days"]: w["rate"] for w in top["success"]["windows"]}
    flat = {
        "secrets": top["secrets"]["total"],
        "overdue": top["rotations"]["overdue"],
        "due_soon": top["rotations"]["due_soon"],
        "success_7": rates.get(7),
        "success_30": rates.get(30),
        "success_90": rates.get(90),
        "active_grants": top["access"]["active_grants"],
        "pending_approvals": top["access"]["pending_approvals"],
        "mfa_rate": top["mfa"]["rate"],
        "mfa_missing": top["mfa"]["missing"],
        "audit_chain": top["audit"]["state"],
        "open_breaks": top["audit"]["open_breaks"],
        "backends_down": top["backends"]["down"] + top["backends"]["sealed"],
    }
    for result in scoring.evaluate(scoring.period_for(now=now)):
        flat[f"score_{result.framework.id}"] = result.score
    return flat


@dataclass
class Line:
    label: str
    now: object
    before: object
    change: str  # "+3", "−2.5", "new", "" (same or not comparable)
    verdict: str  # better, worse or ""


def _number(value):
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def compare(current: dict, previous: dict | None) -> list[Line]:
    """One line per figure, with last week's value and the change (and whether it is better)."""
    labels = list(FIGURES)
    for key in sorted(k for k in current if k.startswith("score_")):
        labels.append((key, f"{key[6:].upper().replace('-', ' ')} compliance score (%)", UP))
    lines = []
    for key, label, better in labels:
        now, before = current.get(key), (previous or {}).get(key)
        change, verdict = "", ""
        if previous is not None and key not in previous:
            change = "new"
        elif _number(now) is not None and _number(before) is not None and now != before:
            delta = round(now - before, 1)
            change = f"+{delta:g}" if delta > 0 else f"−{-delta:g}"
            if better:
                verdict = "better" if (delta > 0) == (better == UP) else "worse"
        elif previous is not None and now != before:
            change = f"was {before}"
        lines.append(Line(label, now, before, change, verdict))
    return lines


def monday(now: datetime):
    day = now.date()
    return day - timedelta(days=day.weekday())


def recipients() -> list[str]:
    managers = get_user_model().objects.filter(groups__name=MANAGERS, is_active=True).exclude(email="")
    return sorted(set(managers.values_list("email", flat=True)))


def _record(week, now) -> WeeklySnapshot | None:
    """This week's snapshot, stored once (None when another run stored it first)."""
    figures = numbers(now)  # aggregates only; before the transaction
    try:
        with transaction.atomic():
            snapshot = WeeklySnapshot.objects.create(week=week, taken_at=now, numbers=figures)
            record(actions.DIGEST_RECORDED, actor="celery:digest", target=snapshot, data={"week": str(week)})
    except IntegrityError:
        return None
    return snapshot


def send_weekly_digest(now: datetime | None = None) -> WeeklySnapshot | None:
    """Store this week's snapshot and mail the managers; returns the snapshot, or None when the
    week's digest had already gone out (or there is nobody to send it to)."""
    now = now or timezone.now()
    week = monday(now)
    snapshot = WeeklySnapshot.objects.filter(week=week).first() or _record(week, now)
    if snapshot is None:
        snapshot = WeeklySnapshot.objects.get(week=week)
    if snapshot.sent_at is not None:
        return None
    to = recipients()
    if not to:
        log.warning("weekly digest of %s: no manager has an email address; nothing sent", week)
        return None
    previous = WeeklySnapshot.objects.filter(week__lt=week).order_by("-week").first()
    context = {
        "week": week,
        "snapshot": snapshot,
        "previous": previous,
        "lines": compare(snapshot.numbers, previous.numbers if previous else None),
        "site_name": settings.SITE_NAME,
        "console_url": settings.CONSOLE_URL.rstrip("/"),
    }
    message = EmailMultiAlternatives(
        subject=" ".join(render_to_string("compliance/email/digest_subject.txt", context).split()),
        body=render_to_string("compliance/email/digest.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=to,
        connection=get_connection(timeout=getattr(settings, "EMAIL_TIMEOUT", None) or 30),
        headers={"Auto-Submitted": "auto-generated"},
    )
    message.attach_alternative(render_to_string("compliance/email/digest.html", context), "text/html")
    # Claim the week first (one conditional UPDATE), so two runs at once send one mail; the
    # mail goes out with no transaction open, and a failure hands the week back.
    claim = WeeklySnapshot.objects.filter(pk=snapshot.pk, sent_at__isnull=True)
    if not claim.update(sent_at=timezone.now(), recipients=len(to)):
        return None
    try:
        message.send(fail_silently=False)
    except Exception:
        WeeklySnapshot.objects.filter(pk=snapshot.pk).update(sent_at=None, recipients=0)
        raise
    with transaction.atomic():
        snapshot.refresh_from_db()
        record(
            actions.DIGEST_SENT,
            actor="celery:digest",
            target=snapshot,
            data={"week": str(week), "recipients": len(to)},
        )
    return snapshot
