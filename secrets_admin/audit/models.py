"""Audit ledger models.

`AuditEntry` rows are append-only: the model and its QuerySet refuse update and delete, and on
PostgreSQL a trigger (migration 0002) refuses UPDATE and DELETE for every client. The only
update the trigger lets through is the one Django issues when a user is deleted (actor set to
NULL); the copied `actor_name` keeps the entry's meaning and is what the hash covers.
"""

from django.conf import settings
from django.db import models


class AppendOnlyError(RuntimeError):
    """Raised on any attempt to change or remove an audit entry through the ORM."""


class AuditEntryQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("audit entries are append-only: update() is refused")

    def delete(self):
        raise AppendOnlyError("audit entries are append-only: delete() is refused")

    def bulk_update(self, objs, fields, batch_size=None):
        raise AppendOnlyError("audit entries are append-only: bulk_update() is refused")

    def bulk_create(self, objs, *args, **kwargs):
        raise AppendOnlyError("write audit entries with secrets_admin.audit.services.record()")

    def update_or_create(self, *args, **kwargs):
        raise AppendOnlyError("audit entries are append-only: update_or_create() is refused")


class AuditEntry(models.Model):
    sequence = models.PositiveBigIntegerField(primary_key=True)  # 1, 2, 3 ... without gaps
    created_at = models.DateTimeField(db_index=True)  # UTC
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150)  # copied: survives the user's deletion
    action = models.CharField(max_length=100, db_index=True)
    target_type = models.CharField(max_length=100, blank=True)  # "app_label.model"
    target_id = models.CharField(max_length=64, blank=True)
    target_repr = models.CharField(max_length=200, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    ip = models.CharField(max_length=45, blank=True)
    data = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-sequence"]
        verbose_name_plural = "audit entries"
        # Filters on the audit page list newest first: (filter columns, sequence) lets PostgreSQL
        # read the page straight from the index instead of sorting every match.
        indexes = [
            models.Index(fields=["target_type", "target_id", "sequence"], name="audit_target_seq_idx"),
            models.Index(fields=["actor_name", "sequence"], name="audit_actor_seq_idx"),
        ]

    def __str__(self):
        return f"#{self.sequence} {self.action} by {self.actor_name}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("audit entries are append-only: save() of an existing entry is refused")
        if not getattr(self, "_sealed", False):
            raise AppendOnlyError("write audit entries with secrets_admin.audit.services.record()")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("audit entries are append-only: delete() is refused")


class AuditCheckpoint(models.Model):
    """One row per verification run. Not an audited state change: it only records what the
    verifier saw. The newest `ok` row is where an incremental verification starts; the newest
    row of any kind is the chain status the audit page shows."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    full = models.BooleanField()
    ok = models.BooleanField()
    sequence = models.PositiveBigIntegerField()  # last entry verified (0 for an empty ledger)
    hash = models.CharField(max_length=64)  # its hash (the genesis hash when empty)
    checked_from = models.PositiveBigIntegerField()
    entries = models.PositiveBigIntegerField()
    duration_ms = models.PositiveIntegerField()
    broken_at = models.PositiveBigIntegerField(null=True, blank=True)
    problem = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        get_latest_by = ["created_at", "id"]

    def __str__(self):
        state = "ok" if self.ok else f"broken at #{self.broken_at}"
        return f"{'full' if self.full else 'incremental'} verification up to #{self.sequence}: {state}"

    def save(self, *args, **kwargs):
        # A checkpoint is a record of what a verification saw: it is written once, never edited.
        if not self._state.adding:
            raise AppendOnlyError("audit checkpoints are written once; run a new verification instead")
        super().save(*args, **kwargs)
