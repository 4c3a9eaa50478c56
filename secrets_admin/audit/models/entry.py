"""The ledger's entries.

`AuditEntry` rows are append-only. A writer inserts an entry with its content hash and no chain
position (`sequence` NULL: "pending"); the sequencer later links it once, setting `sequence`,
`prev_hash`, `hash` and `linked_at`. The model and its QuerySet refuse every other change; on
PostgreSQL triggers (migration 0005) refuse UPDATE, DELETE and TRUNCATE for every client,
except that one link and Django nulling `actor_id` when a user is deleted (the copied
`actor_name` keeps the entry's meaning and is what the hash covers).
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q


class AppendOnlyError(RuntimeError):
    """Raised on any attempt to change or remove an audit record through the ORM."""


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

    def linked(self):
        return self.filter(sequence__isnull=False)

    def pending(self):
        return self.filter(sequence__isnull=True)

    def newest_first(self):
        """Chain order, newest first, with entries still waiting for the sequencer on top."""
        return self.order_by(F("sequence").desc(nulls_first=True), "-id")


class AuditEntry(models.Model):
    # Insert order: what a writer saw. Not the chain order (an entry inserted earlier may commit
    # later); `sequence` is, and it is given by the sequencer alone.
    id = models.BigAutoField(primary_key=True)
    sequence = models.PositiveBigIntegerField(null=True, blank=True, unique=True)  # 1, 2, 3 ... no gaps
    created_at = models.DateTimeField(db_index=True)  # UTC, taken by the writer
    actor = models.ForeignKey(  # indexed below, people only
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    actor_name = models.CharField(max_length=150)  # copied: survives the user's deletion
    action = models.CharField(max_length=100, db_index=True)
    target_type = models.CharField(max_length=100, blank=True)  # "app_label.model"
    target_id = models.CharField(max_length=64, blank=True)
    target_repr = models.CharField(max_length=200, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    ip = models.CharField(max_length=45, blank=True)
    data = models.JSONField(default=dict, blank=True)
    content_hash = models.CharField(max_length=64)
    prev_hash = models.CharField(max_length=64, blank=True)  # "" until linked
    hash = models.CharField(max_length=64, blank=True)  # "" until linked
    linked_at = models.DateTimeField(null=True, blank=True)  # when the sequencer linked it (not hashed)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = [F("sequence").desc(nulls_first=True), "-id"]
        verbose_name_plural = "audit entries"
        indexes = [
            # Filters on the audit page list newest first: (filter columns, sequence) lets
            # PostgreSQL read the page straight from the index instead of sorting every match.
            models.Index(fields=["target_type", "target_id", "sequence"], name="audit_target_seq_idx"),
            models.Index(fields=["actor_name", "sequence"], name="audit_actor_seq_idx"),
            # Entries of a person (the "person" filter; Django nulling actor_id when a user is
            # deleted). System actors (Celery, the rotation engine, logins by unknown names)
            # write most entries and have no user: they skip this index on insert and on link.
            models.Index(fields=["actor"], condition=Q(actor__isnull=False), name="audit_actor_user_idx"),
            # The sequencer's queue: only entries not linked yet, so it stays tiny.
            models.Index(fields=["id"], condition=Q(sequence__isnull=True), name="audit_pending_idx"),
        ]

    def __str__(self):
        return f"#{self.sequence or 'pending'} {self.action} by {self.actor_name}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("audit entries are append-only: save() of an existing entry is refused")
        if not getattr(self, "_sealed", False):
            raise AppendOnlyError("write audit entries with secrets_admin.audit.services.record()")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("audit entries are append-only: delete() is refused")

    @property
    def linked(self) -> bool:
        return self.sequence is not None

    def content(self) -> tuple:
        """The values content_hash covers, in chain.CONTENT order."""
        from secrets_admin.audit import chain

        return tuple(getattr(self, name) for name in chain.CONTENT)
