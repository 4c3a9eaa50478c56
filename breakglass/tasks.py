"""Celery tasks: thin wrappers over the services (JSON arguments: ids and words only)."""

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail as django_send_mail
from django.template.loader import render_to_string

from breakglass.services import grants, recording, requests


@shared_task(name="breakglass.expire")
def expire() -> dict:
    """Beat: expire unapproved requests, end grants past their expiry, escalate late reviews."""
    from breakglass.services import after

    return {
        "expired": requests.expire_pending(),
        **grants.end_expired(),
        "escalated": after.escalate_reviews(),
        "rotations": after.start_queued_rotations(),
    }


@shared_task(name="breakglass.record_sessions")
def record_sessions() -> dict:
    return recording.read_audit_log()


@shared_task(name="breakglass.notify")
def notify(kind: str, pk: int) -> None:
    """Alerts and mail about a request (`requested`, `decided`) or a grant (`activated`)."""
    from breakglass import notify as notifications

    if kind not in notifications.KINDS:
        raise ValueError(f"unknown notification {kind!r}")
    getattr(notifications, kind)(pk)


@shared_task(name="breakglass.send_mail")
def send_mail(kind: str, request_id: int) -> int:
    """Email the approvers of a new request, or its requester once it is decided."""
    from breakglass.models import AccessRequest

    access = AccessRequest.objects.select_related("requester").get(pk=request_id)
    if kind == "requested":
        people = get_user_model().objects.filter(groups__name__in=access.groups, is_active=True)
        to = sorted(
            set(people.exclude(pk=access.requester_id).exclude(email="").values_list("email", flat=True))
        )
    else:
        to = [access.requester.email] if access.requester.email else []
    if not to:
        return 0
    context = {
        "access": access,
        "link": settings.CONSOLE_URL.rstrip("/") + access.get_absolute_url(),
        "site": settings.SITE_NAME,
    }
    subject = " ".join(render_to_string(f"breakglass/email/{kind}_subject.txt", context).split())
    body = render_to_string(f"breakglass/email/{kind}.txt", context)
    return django_send_mail(subject, body, None, to)
