"""Email through Django's mail backend, rendered from subject/text/HTML templates.

Recipients are fixed addresses and/or the members of console groups (looked up when sending,
so a person who joins the security team starts getting its mail). SMTP 5xx answers are
permanent; connection problems and 4xx answers are temporary.
"""

import smtplib

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.validators import validate_email
from django.template.loader import render_to_string

from secrets_admin.alerts.events import Severity
from secrets_admin.alerts.transports.base import DeliveryError, Notification, Transport
from secrets_admin.roles import GROUPS


class EmailTransport(Transport):
    label = "Email"
    default_severities = (Severity.INFO, Severity.WARNING, Severity.CRITICAL)

    def recipients(self) -> list[str]:
        found = list(self.config.get("addresses", []))
        groups = self.config.get("groups", [])
        if groups:
            members = get_user_model().objects.filter(groups__name__in=groups, is_active=True)
            found += members.exclude(email="").values_list("email", flat=True).distinct()
        return sorted(set(found))

    def send(self, notification: Notification) -> None:
        to = self.recipients()
        if not to:
            raise DeliveryError(
                "nobody to send to: no addresses, and the groups have no emails", permanent=True
            )
        context = {"n": notification}
        subject = " ".join(render_to_string("alerts/email/alert_subject.txt", context).split())
        message = EmailMultiAlternatives(
            subject=subject,
            body=render_to_string("alerts/email/alert_message.txt", context),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=to,
            # A mail server that accepts the connection and then hangs must not hold the worker.
            connection=get_connection(timeout=getattr(settings, "EMAIL_TIMEOUT", None) or 30),
            headers={"X-Candlefish-Alert": notification.key[:200], "Auto-Submitted": "auto-generated"},
        )
        message.attach_alternative(render_to_string("alerts/email/alert_message.html", context), "text/html")
        try:
            message.send(fail_silently=False)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise DeliveryError(
                f"the mail server refused every recipient ({', '.join(map(str, codes))})",
                permanent=all(code >= 500 for code in codes),
            ) from None
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(
                f"the mail server answered {exc.smtp_code}: {_text(exc.smtp_error)}",
                permanent=exc.smtp_code >= 500,
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(
                f"could not reach the mail server: {type(exc).__name__}: {exc}", permanent=False
            ) from None

    @classmethod
    def clean_config(cls, config: dict) -> dict:
        addresses = []
        for raw in config.get("addresses") or []:
            address = str(raw).strip()
            if not address:
                continue
            try:
                validate_email(address)
            except ValidationError:
                raise ValidationError(f"{address!r} is not an email address.") from None
            addresses.append(address)
        groups = [str(g) for g in config.get("groups") or []]
        unknown = sorted(set(groups) - set(GROUPS))
        if unknown:
            raise ValidationError(f"Unknown groups: {', '.join(unknown)}.")
        if not addresses and not groups:
            raise ValidationError("Give at least one address or group to send to.")
        if len(addresses) > 50:
            raise ValidationError("At most 50 addresses per channel.")
        return {"addresses": sorted(set(addresses)), "groups": sorted(set(groups))}

    @classmethod
    def describe(cls, config: dict) -> str:
        parts = [f"group {g}" for g in config.get("groups", [])] + list(config.get("addresses", []))
        return "to " + ", ".join(parts) if parts else "no recipients"


def _text(value) -> str:
    return (value.decode(errors="replace") if isinstance(value, bytes) else str(value))[:200]
