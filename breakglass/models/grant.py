"""Grants (a real OpenBao token per approved request) and what each token did.

The console keeps the token's accessor. The token itself is held only Fernet-encrypted
(FIELD_ENCRYPTION_KEYS), only until its one reveal or the grant's end, whichever comes first.
"""

from django.db import models
from django.urls import reverse
from django.utils import timezone


class GrantState(models.TextChoices):
    ISSUING = "issuing", "Being issued"
    ACTIVE = "active", "Active"
    ENDED = "ended", "Ended"
    REVOKED = "revoked", "Revoked early"
    FAILED = "failed", "Not issued"


class Grant(models.Model):
    request = models.OneToOneField(
        "breakglass.AccessRequest", on_delete=models.PROTECT, related_name="grant"
    )  # one-to-one: concurrent final approvals can never make two
    backend = models.CharField(max_length=64)
    state = models.CharField(max_length=10, choices=GrantState.choices, default=GrantState.ISSUING)
    policy_name = models.CharField(max_length=200)
    accessor = models.CharField(max_length=128, blank=True, db_index=True)
    sealed_token = models.TextField(blank=True, help_text="Fernet token of the OpenBao token until revealed")
    issued_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(help_text="approval time + approved duration")
    revealed_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by_name = models.CharField(max_length=150, blank=True)
    end_reason = models.CharField(max_length=200, blank=True)
    token_gone_at = models.DateTimeField(null=True, blank=True, help_text="OpenBao confirmed it is gone")
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["state", "expires_at"], name="bg_grant_state_idx")]

    def __str__(self):
        return f"grant #{self.pk} for request #{self.request_id}"

    def get_absolute_url(self):
        return reverse("breakglass:grant", args=[self.pk])

    @property
    def live(self) -> bool:
        return self.state == GrantState.ACTIVE and self.expires_at > timezone.now()

    @property
    def revealable(self) -> bool:
        return self.live and bool(self.sealed_token) and self.revealed_at is None


class SessionEvent(models.Model):
    """One request OpenBao served with a grant's token, from its file audit device. Kept forever.

    `audit_offset` is the byte offset of the line in the audit file (with the file's identity):
    unique, so a line can never join a timeline twice."""

    grant = models.ForeignKey(Grant, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField()
    path = models.CharField(max_length=1024)
    operation = models.CharField(max_length=20)
    result = models.CharField(max_length=20, help_text="ok, denied or error")
    error = models.CharField(max_length=300, blank=True)
    client_address = models.CharField(max_length=64, blank=True)
    audit_file = models.CharField(max_length=200, help_text="device and inode of the audit file")
    audit_offset = models.BigIntegerField()
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "audit_offset"]
        constraints = [
            models.UniqueConstraint(fields=["audit_file", "audit_offset"], name="bg_event_once_per_line")
        ]

    def __str__(self):
        return f"{self.operation} {self.path} ({self.result})"
