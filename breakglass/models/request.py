"""Access requests and their approvals. Kept forever: nothing here is ever deleted.

The request hash (sha256 of the canonical scope, duration, reason and groups) is what an
approver's one-time code is bound to; editing any of those changes it and voids the approvals.
"""

import hashlib
import json

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone


class Kind(models.TextChoices):
    BREAK_GLASS = "break_glass", "Break-glass"
    STANDARD = "standard", "Everyday access"


class Status(models.TextChoices):
    PENDING = "pending", "Pending approval"
    APPROVED = "approved", "Approved, token being issued"
    ACTIVE = "active", "Active"
    DENIED = "denied", "Denied"
    EXPIRED_UNAPPROVED = "expired_unapproved", "Expired unapproved"
    REVOKED = "revoked", "Revoked"
    ENDED = "ended", "Ended"
    FAILED = "failed", "Approved, but OpenBao refused the token"


OPEN = (Status.PENDING,)
TERMINAL = (Status.DENIED, Status.EXPIRED_UNAPPROVED, Status.REVOKED, Status.ENDED, Status.FAILED)


def request_hash(*, scope: list[str], duration_seconds: int, reason: str, groups: list[str]) -> str:
    """sha256 hex of the canonical JSON of what an approver approves."""
    canonical = json.dumps(
        {
            "scope": sorted(scope),
            "duration_seconds": int(duration_seconds),
            "reason": reason,
            "groups": sorted(groups),
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class AccessRequest(models.Model):
    kind = models.CharField(max_length=20, choices=Kind.choices)
    requester = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requester_name = models.CharField(max_length=150, help_text="copied: the request keeps its meaning")
    reason = models.TextField()
    ticket = models.CharField(max_length=200, blank=True)
    # [{"secret": id, "backend": "vault", "path": "secret/x", "environment": "production"}]
    scope = models.JSONField(default=list)
    duration_seconds = models.PositiveIntegerField()
    groups = models.JSONField(default=list, help_text="approver groups; one approval from each")
    record_session = models.BooleanField(default=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    request_hash = models.CharField(max_length=64)
    revision = models.PositiveIntegerField(default=1, help_text="bumped by every edit")
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)
    pending_until = models.DateTimeField(help_text="expires unapproved after this")
    approved_at = models.DateTimeField(null=True, blank=True, help_text="the access clock starts here")
    decided_at = models.DateTimeField(null=True, blank=True, help_text="approved, denied or expired")
    denied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    deny_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "created_at"], name="bg_request_status_idx"),
            models.Index(fields=["requester", "created_at"], name="bg_request_requester_idx"),
        ]

    def __str__(self):
        return f"access request #{self.pk}"

    def get_absolute_url(self):
        return reverse("breakglass:detail", args=[self.pk])

    @property
    def paths(self) -> list[str]:
        return [item["path"] for item in self.scope]

    @property
    def fingerprint(self) -> str:
        """The hash's short form people compare: 4 groups of 4 hex digits."""
        h = self.request_hash[:16]
        return "-".join(h[i : i + 4] for i in range(0, 16, 4))

    @property
    def production(self) -> bool:
        return any(item.get("environment") == "production" for item in self.scope)

    @property
    def duration_words(self) -> str:
        hours, rest = divmod(self.duration_seconds, 3600)
        minutes = rest // 60
        parts = [f"{hours} h"] if hours else []
        if minutes:
            parts.append(f"{minutes} min")
        return " ".join(parts) or "0 min"

    def compute_hash(self) -> str:
        return request_hash(
            scope=self.paths, duration_seconds=self.duration_seconds, reason=self.reason, groups=self.groups
        )


class Approval(models.Model):
    """One filled group slot. A voided approval (the request was edited after it) stays as history.

    Database rules, so that a path around the services still fails: one live approval per group
    slot, one live slot per person, and (a trigger, see migration 0002) never the requester."""

    request = models.ForeignKey(AccessRequest, on_delete=models.PROTECT, related_name="approvals")
    group = models.CharField(max_length=150)
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    approver_name = models.CharField(max_length=150)
    request_hash = models.CharField(max_length=64, help_text="the hash the code was bound to")
    used_code = models.ForeignKey(
        "accounts.UsedCode", null=True, on_delete=models.PROTECT, related_name="+", help_text="MFA proof"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    voided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "group"],
                condition=Q(voided_at__isnull=True),
                name="bg_one_approval_per_slot",
            ),
            models.UniqueConstraint(
                fields=["request", "approver"],
                condition=Q(voided_at__isnull=True),
                name="bg_one_slot_per_person",
            ),
        ]

    def __str__(self):
        return f"approval by {self.approver_name} ({self.group}) of request #{self.request_id}"
