"""Intents: the outbox rows of changes that touch a backend and the database.

A service records an intent (with its step-up code and an audit entry) in one short
transaction, calls the backend outside any transaction, then finishes or fails the intent in a
second short one. A process that dies in between leaves the intent pending; the reconciler
(beat) settles it by looking at the backend. At most one intent per `key` is pending, so two
changes of one thing never race each other at the backend.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class Intent(models.Model):
    PENDING, DONE, FAILED = "pending", "done", "failed"
    STATES = [(PENDING, "pending"), (DONE, "done"), (FAILED, "failed")]

    kind = models.CharField(max_length=100)  # registered in secrets_admin.audit.intents
    key = models.CharField(max_length=255)  # what is being changed: "inventory.secret:42", "vault:secret/x"
    state = models.CharField(max_length=10, choices=STATES, default=PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150)
    request_id = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict, blank=True)  # what to do; never a secret value
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)  # reconciler attempts

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["key"], condition=Q(state="pending"), name="intent_one_pending_per_key"
            )
        ]
        indexes = [models.Index(fields=["state", "created_at"], name="intent_state_idx")]

    def __str__(self):
        return f"{self.kind} {self.key} ({self.state})"
