"""Rotation runs and their step log. Metadata only: no field ever holds a secret value."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from secrets_admin.inventory.models import Secret
from secrets_admin.rotation.strategies import STRATEGIES
from secrets_admin.rotation.strategies.base import STEPS


def new_token() -> str:
    return uuid.uuid4().hex


class RotationRun(models.Model):
    """One rotation of one secret: a state machine over the steps create, set, test, finish.

    `step` is the next step to run ("done" once finish succeeded): a run resumed after a crash
    starts there. `token` keys every backend write (AWS ClientRequestToken, the KV
    `candlefish-run` marker), so re-running a step never makes a second new version.
    At most one active run (pending, running, retrying) per secret: a partial unique constraint.
    """

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        RETRYING = "retrying", "Failed, will retry"
        FINISHED = "finished", "Finished"
        FAILED = "failed", "Failed"
        NEEDS_PERSON = "needs_person", "Needs a person"
        CANCELLED = "cancelled", "Cancelled"

    class Reason(models.TextChoices):
        SCHEDULE = "schedule", "On schedule"
        ROTATE_NOW = "rotate-now", "Rotate now"
        CLI = "cli", "Command line"
        ASSUME_BREACH = "assume-breach", "Assume breach"
        CAMPAIGN = "campaign", "Campaign"

    ACTIVE = (State.PENDING, State.RUNNING, State.RETRYING)
    STEP_CHOICES = [(name, name) for name in (*STEPS, "done")]

    secret = models.ForeignKey(Secret, on_delete=models.CASCADE, related_name="rotation_runs")
    strategy = models.CharField(max_length=32, choices=[(name, name) for name in STRATEGIES])
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    step = models.CharField(max_length=8, choices=STEP_CHOICES, default="create")
    token = models.CharField(max_length=64, unique=True, default=new_token)
    attempt = models.PositiveIntegerField(default=0, help_text="failed attempts of the current step")
    max_attempts = models.PositiveIntegerField(default=5)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    lease_owner = models.CharField(max_length=128, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    state_data = models.JSONField(default=dict, blank=True, help_text="facts between steps, never values")
    new_version_id = models.CharField(max_length=200, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    reason = models.CharField(max_length=16, choices=Reason.choices, default=Reason.SCHEDULE)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    error = models.TextField(blank=True, help_text="the last failure, in words")
    # Blue-green: the old version stays valid until retire_after, then the retire beat revokes it.
    retire_after = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["secret"],
                condition=Q(state__in=["pending", "running", "retrying"]),
                name="rotation_one_active_run_per_secret",
            )
        ]
        indexes = [
            # The reconciler's scan: active runs whose lease ran out or whose retry is due.
            models.Index(fields=["state", "lease_expires_at"], name="rotation_run_state_lease"),
            models.Index(fields=["secret", "-created_at"], name="rotation_run_secret_recent"),
            models.Index(fields=["retire_after"], name="rotation_run_retire_after"),
        ]

    def __str__(self):
        return f"rotation run {self.pk} of {self.secret}"

    def get_absolute_url(self):
        return reverse("rotation:run", args=[self.pk])

    @property
    def active(self) -> bool:
        return self.state in self.ACTIVE


class RotationStep(models.Model):
    """One attempt at one step of a run: the step log (timings, the error in words, facts)."""

    run = models.ForeignKey(RotationRun, on_delete=models.CASCADE, related_name="steps")
    name = models.CharField(max_length=16)
    attempt = models.PositiveIntegerField(default=1)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    ok = models.BooleanField(null=True, help_text="empty while the step runs (or its worker died)")
    error = models.TextField(blank=True)
    facts = models.JSONField(default=dict, blank=True, help_text="what the step did, never values")

    class Meta:
        ordering = ["started_at", "id"]

    def __str__(self):
        return f"{self.name} (attempt {self.attempt}) of run {self.run_id}"


class RotationHook(models.Model):
    """Where a blue-green rotation tells the API provider about a new key: an HTTPS endpoint of
    one secret, or of every secret of one policy (the secret's own wins). The URL and the HMAC
    key are stored only encrypted (Fernet, FIELD_ENCRYPTION_KEYS) and never shown again; pages
    show the host. Requests are HMAC-signed and never carry a value (rotation.hooks)."""

    secret = models.OneToOneField(
        Secret, null=True, blank=True, on_delete=models.CASCADE, related_name="rotation_hook"
    )
    policy = models.OneToOneField(
        "inventory.RotationPolicy",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="rotation_hook",
    )
    host = models.CharField(
        max_length=255, help_text="the endpoint's host, for pages (the URL stays encrypted)"
    )
    encrypted_url = models.TextField()
    encrypted_key = models.TextField(help_text="Fernet token of the HMAC signing key")
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.CharField(max_length=150, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(secret__isnull=False, policy__isnull=True)
                | Q(secret__isnull=True, policy__isnull=False),
                name="rotation_hook_secret_or_policy",
            )
        ]

    def __str__(self):
        return f"rotation hook of {self.secret or self.policy} ({self.host})"

    @property
    def url(self) -> str:
        from secrets_admin.accounts import crypto

        return crypto.decrypt(self.encrypted_url).decode()

    @property
    def signing_key(self) -> bytes:
        from secrets_admin.accounts import crypto

        return crypto.decrypt(self.encrypted_key)
