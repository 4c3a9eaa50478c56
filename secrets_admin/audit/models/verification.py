"""What verifications saw, where the chain head was anchored, and which breaks people
acknowledged. All three are append-only records (ORM refusals here, PostgreSQL triggers in
migration 0005): not audited state changes in themselves, but evidence."""

from django.db import models

from secrets_admin.audit.models.entry import AppendOnlyError


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError(f"{self.model._meta.verbose_name_plural} are append-only: update() is refused")

    def delete(self):
        raise AppendOnlyError(f"{self.model._meta.verbose_name_plural} are append-only: delete() is refused")


class AppendOnly(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError(f"{self._meta.verbose_name_plural} are written once, never edited")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(f"{self._meta.verbose_name_plural} are append-only: delete() is refused")


class AuditCheckpoint(AppendOnly):
    """One row per verification run. The newest `ok` row is where an incremental verification
    starts when no anchor can be read; a row with `ok` False is a break, shown until someone
    acknowledges its fingerprint (a later clean run does not hide it)."""

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
    kind = models.CharField(max_length=20, blank=True)  # chain.Outcome.kind of the break
    fingerprint = models.CharField(max_length=200, blank=True, db_index=True)
    expected = models.CharField(max_length=64, blank=True)
    found = models.CharField(max_length=64, blank=True)
    stepped_over = models.JSONField(default=list, blank=True)  # acknowledged breaks passed over
    anchor = models.CharField(max_length=300, blank=True)  # what the anchor comparison said

    class Meta:
        ordering = ["-created_at", "-id"]
        get_latest_by = ["created_at", "id"]

    KIND_LABELS = {
        "altered": "an entry was altered",
        "link": "a link is broken",
        "missing": "an entry is missing",
        "cut": "entries were cut",
        "anchor": "the chain differs from its anchor",
    }

    def __str__(self):
        state = "ok" if self.ok else f"broken at #{self.broken_at}"
        return f"{'full' if self.full else 'incremental'} verification up to #{self.sequence}: {state}"

    @property
    def kind_label(self) -> str:
        return self.KIND_LABELS.get(self.kind, self.kind or "break")


class AuditAnchor(AppendOnly):
    """One row per attempt to write the chain head outside the database. `ok` rows are anchors
    (the store's own version history is the authority; these rows show it on the page); failed
    rows say why the anchor is getting stale."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    ok = models.BooleanField()
    reason = models.CharField(max_length=20)  # periodic | full | acknowledged
    sequence = models.PositiveBigIntegerField()
    hash = models.CharField(max_length=64)
    store = models.CharField(max_length=300)  # "vault:audit-anchors/candlefish"
    version = models.PositiveBigIntegerField(null=True, blank=True)  # KV v2 version written
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        state = f"v{self.version}" if self.ok else f"failed: {self.error[:60]}"
        return f"anchor of #{self.sequence} in {self.store}: {state}"


class BreakAcknowledgement(AppendOnly):
    """A security-team member looked at a break and acknowledged it with a one-time code
    (audited as audit.break.acknowledged). Verifications then step over a break with this
    fingerprint instead of stopping at it, and the page stops showing it as open."""

    created_at = models.DateTimeField(auto_now_add=True)
    fingerprint = models.CharField(max_length=200, unique=True)
    checkpoint = models.ForeignKey(AuditCheckpoint, on_delete=models.PROTECT, related_name="+")
    broken_at = models.PositiveBigIntegerField()
    actor_name = models.CharField(max_length=150)  # copied, like audit entries
    note = models.TextField()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"break at #{self.broken_at} acknowledged by {self.actor_name}"
