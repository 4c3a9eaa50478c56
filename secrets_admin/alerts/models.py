"""Alerts: channels and their routes, alerts (one open per condition key) and deliveries.

A channel's secret (webhook URL, routing key) is stored only as a Fernet token
(FIELD_ENCRYPTION_KEYS, the same keys as TOTP seeds); pages show `secret_hint` instead.
"""

from django.db import models
from django.db.models import Q
from django.urls import reverse

from secrets_admin.accounts import crypto
from secrets_admin.alerts.events import Severity
from secrets_admin.alerts.transports import kind_choices, transport_class


class Channel(models.Model):
    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=20, choices=kind_choices())
    config = models.JSONField(default=dict, blank=True, help_text="non-secret settings (email recipients)")
    encrypted_secret = models.TextField(blank=True, help_text="Fernet token of the webhook URL / routing key")
    secret_hint = models.CharField(max_length=120, blank=True, help_text="host or last 4 characters")
    enabled = models.BooleanField(default=True)
    disabled_reason = models.TextField(blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    last_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("alerts:channel", args=[self.pk])

    @property
    def transport_class(self):
        return transport_class(self.kind)

    def set_secret(self, value: str) -> None:
        self.encrypted_secret = crypto.encrypt(value.encode()) if value else ""
        self.secret_hint = self.transport_class.hint(value) if value else ""

    def transport(self):
        """The transport, holding the decrypted secret for the length of one send."""
        secret = crypto.decrypt(self.encrypted_secret).decode() if self.encrypted_secret else ""
        return self.transport_class(config=self.config, secret=secret)

    @property
    def summary(self) -> str:
        return self.transport_class.describe(self.config) or self.secret_hint


class Route(models.Model):
    """Channel X gets alerts of severity Y. The routing table is these rows."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="routes")
    severity = models.CharField(max_length=10, choices=Severity.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["channel", "severity"], name="route_unique")]

    def __str__(self):
        return f"{self.severity} → {self.channel}"


class Alert(models.Model):
    class State(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    event = models.CharField(max_length=64, db_index=True)
    key = models.CharField(max_length=255, help_text="the condition; one open alert per key")
    severity = models.CharField(max_length=10, choices=Severity.choices)
    subject = models.CharField(max_length=300)
    facts = models.JSONField(default=dict, blank=True, help_text="small metadata, never a secret value")
    target_type = models.CharField(max_length=100, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_repr = models.CharField(max_length=200, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    opened_at = models.DateTimeField()
    last_raised_at = models.DateTimeField()
    raise_count = models.PositiveIntegerField(default=1)
    notified_at = models.DateTimeField(null=True, blank=True, help_text="last time deliveries were queued")
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["key"], condition=Q(state="open"), name="alert_one_open_per_key")
        ]
        indexes = [models.Index(fields=["state", "event"], name="alert_state_event")]

    def __str__(self):
        return f"{self.event}: {self.subject}"[:200]

    def get_absolute_url(self):
        return reverse("alerts:alert", args=[self.pk])


class Delivery(models.Model):
    """One message to one channel about one alert: its status, attempts and last error."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        RETRYING = "retrying", "Waiting to retry"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"

    class Action(models.TextChoices):
        TRIGGER = "trigger", "Alert"
        RESOLVE = "resolve", "Resolved"

    WAITING = (Status.PENDING, Status.RETRYING)
    UNFINISHED = (Status.PENDING, Status.SENDING, Status.RETRYING)

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="deliveries")
    action = models.CharField(max_length=10, choices=Action.choices, default=Action.TRIGGER)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    escalated = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    next_attempt_at = models.DateTimeField(help_text="when a waiting delivery is due")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_due")]
        verbose_name_plural = "deliveries"

    def __str__(self):
        return f"{self.get_action_display()} of alert #{self.alert_id} to {self.channel}"
