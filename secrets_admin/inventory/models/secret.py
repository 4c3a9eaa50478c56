from datetime import timedelta

from django.db import models
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.urls import reverse
from django.utils import timezone

from secrets_admin.inventory.models.choices import Environment, Kind, Status, VersionState
from secrets_admin.inventory.models.policy import RotationPolicy
from secrets_admin.inventory.paging import NULL_SENTINELS, sort_key

# Every sortable list column has a (sort key, id) index: the list pages by keyset on (column, id),
# so page 4,000 costs what page 1 costs.
SORT_COLUMNS = (
    "path",
    "name",
    "kind",
    "environment",
    "owner_team",
    "status",
    "next_due",  # also for the rotation scheduler's "due before" scans
    "backend",
)


def _count(n: int, unit: str) -> str:
    return f"{n} {unit}{'' if n == 1 else 's'}"


def expiry_words(expires_at, now=None) -> str:
    """ "expires in 4 days", "expires in 3 hours", "expired today", "expired 2 days ago"."""
    now = now or timezone.now()
    left = expires_at - now
    if left <= timedelta(0):
        ago = now - expires_at
        return "expired today" if ago < timedelta(days=1) else f"expired {_count(ago.days, 'day')} ago"
    if left < timedelta(days=1):
        return f"expires in {_count(max(1, int(left.total_seconds() // 3600)), 'hour')}"
    return f"expires in {_count(left.days, 'day')}"


class Secret(models.Model):
    """One secret in one backend, described by metadata only. There is no value field, by design.

    `status` is derived from the dates, the policy and sync problems by
    `secrets_admin.inventory.services.status.refresh` and stored so the list can filter on it.
    """

    backend = models.CharField(max_length=64, help_text="connection name in SECRET_BACKENDS")
    path = models.CharField(
        max_length=1024, help_text="stable id inside the backend: KV path, PKI serial or ARN"
    )
    name = models.CharField(max_length=512)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.GENERIC)
    environment = models.CharField(max_length=20, choices=Environment.choices, blank=True)
    owner_team = models.CharField(max_length=128, blank=True)
    purpose = models.TextField(blank=True)
    tags = models.JSONField(
        default=dict, blank=True, help_text="backend tags / custom metadata, names and labels only"
    )

    created_at = models.DateTimeField(null=True, blank=True, help_text="created in the backend")
    remote_updated_at = models.DateTimeField(null=True, blank=True)
    last_rotated = models.DateTimeField(null=True, blank=True)
    last_accessed = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="certificate not-after, lease end")
    next_due = models.DateTimeField(null=True, blank=True)
    rotation_policy = models.ForeignKey(
        RotationPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="secrets"
    )
    rotation = models.JSONField(default=dict, blank=True, help_text="the backend's own rotation settings")
    details = models.JSONField(
        default=dict, blank=True, help_text="backend facts (serial, subject, leases...)"
    )

    # What the list's search reads (inventory.filters.search): the four searched columns in one,
    # so one trigram index answers a search (migration 0006), not four scanned one after another.
    search_text = models.GeneratedField(
        expression=Concat(
            "path",
            Value("\n"),
            "name",
            Value("\n"),
            "owner_team",
            Value("\n"),
            "purpose",
            output_field=models.TextField(),
        ),
        output_field=models.TextField(),
        db_persist=True,
    )

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OK)
    problem = models.TextField(blank=True, help_text="what is wrong, in words; empty when nothing is")
    last_seen = models.DateTimeField(null=True, blank=True, help_text="last sync that found it")
    missing_since = models.DateTimeField(null=True, blank=True)
    discovered_at = models.DateTimeField(auto_now_add=True)
    source = models.CharField(max_length=20, default="sync", help_text="sync, import or console")
    # What the backend said at the sync that last wrote this row (services.remote.digest): a sync
    # that gets the same answer again skips building and comparing the row. Any other writer
    # clears it (save() below), so the next sync compares every field again.
    remote_digest = models.CharField(max_length=32, blank=True, default="", db_default="", editable=False)

    class Meta:
        ordering = ["path", "id"]
        constraints = [models.UniqueConstraint(fields=["backend", "path"], name="secret_unique_backend_path")]
        indexes = [
            *(models.Index(fields=[col, "id"], name=f"secret_{col}_id") for col in SORT_COLUMNS),
            # The drill-down the dashboards link to ("overdue production passwords"): the page and
            # its count are both range scans, whatever the table size.
            models.Index(
                fields=["status", "environment", "kind", "path", "id"], name="secret_status_env_kind"
            ),
            # Nullable dates sort by COALESCE(column, sentinel) (see inventory.paging).
            *(models.Index(sort_key(col), F("id"), name=f"secret_{col}_key") for col in NULL_SENTINELS),
        ]

    def __str__(self):
        return f"{self.backend}:{self.path}"

    def save(self, *args, **kwargs):
        """Saved by anything but a sync (edit, register, rotation, schedule): the row may now
        differ from what the backend said, so the next sync must compare it in full. Sync
        writes with bulk_create/bulk_update, which do not come here."""
        self.remote_digest = ""
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "remote_digest"}
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("inventory:detail", args=[self.pk])

    @property
    def display_name(self) -> str:
        """What people call it: an AWS secret's name (not its ARN), a certificate's common name
        (not pki/cert/<serial>); a KV or database path is already readable, so it is the path."""
        if self.kind == Kind.CERTIFICATE or self.path.startswith("arn:"):
            return self.name or self.path
        return self.path

    @property
    def status_label(self) -> str:
        """The status in the secret's own terms: a certificate "expires in 4 days, renew now" or
        "expired 2 days ago"; other secrets "OK", "Due soon", "Overdue"…"""
        if self.kind != Kind.CERTIFICATE or self.expires_at is None:
            return self.get_status_display()
        if self.status in (Status.MISSING, Status.NEEDS_ATTENTION):
            return self.get_status_display()
        words = expiry_words(self.expires_at)
        if not self.expired:
            words += {Status.DUE_SOON: ", renew soon", Status.OVERDUE: ", renew now"}.get(self.status, "")
        return words

    @property
    def expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def console_metadata(self) -> dict[str, str]:
        """What the console writes back to the backend (KV custom_metadata / AWS tags)."""
        return {"owner": self.owner_team, "purpose": self.purpose, "environment": self.environment}

    @property
    def writable(self) -> bool:
        """Only KV secrets and AWS secrets carry metadata we can write; PKI and database are read-only."""
        return self.kind not in (Kind.CERTIFICATE, Kind.DATABASE) and self.status != Status.MISSING


class SecretVersion(models.Model):
    """One version in a secret's lineage, as the backend reported it. Rows are never deleted:
    a version the backend dropped is kept and marked destroyed."""

    secret = models.ForeignKey(Secret, on_delete=models.CASCADE, related_name="versions")
    version_id = models.CharField(max_length=200)
    stages = models.JSONField(default=list, blank=True)
    state = models.CharField(max_length=12, choices=VersionState.choices, default=VersionState.CURRENT)
    created_at = models.DateTimeField(null=True, blank=True)
    created_by = models.CharField(
        max_length=255, blank=True, help_text="rotation run, import or console user"
    )
    first_seen = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["secret", "version_id"], name="version_unique_per_secret")
        ]

    def __str__(self):
        return f"{self.secret} v{self.version_id}"
