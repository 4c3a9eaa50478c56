from django.db import models
from django.utils import timezone


class SyncRun(models.Model):
    """The record of one inventory sync of one backend (STYLE.md #8: start, log, finish).

    `errors` holds per-secret problems as [{"path": ..., "error": ...}] (messages, never values);
    `error` is the message that stopped the whole run.
    """

    class State(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        PARTIAL = "partial", "Finished with errors"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped (another run was going)"
        ABANDONED = "abandoned", "Abandoned (its worker stopped)"

    MAX_ERRORS = 500  # keep the row small; the count stays exact

    backend = models.CharField(max_length=64)
    actor = models.CharField(
        max_length=150, blank=True, help_text="who started it (username or system actor)"
    )
    state = models.CharField(max_length=12, choices=State.choices, default=State.RUNNING)
    started_at = models.DateTimeField(default=timezone.now)
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="last sign of life of a running run (moves as it walks)"
    )
    finished_at = models.DateTimeField(null=True, blank=True)
    seen = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    vanished = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    request_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["backend", "state"]), models.Index(fields=["-started_at", "-id"])]
        constraints = [
            # Single flight: the database itself refuses a second running run of a backend, so
            # concurrent starts cannot both pass a check-then-insert (services.sync_guard).
            models.UniqueConstraint(
                fields=["backend"],
                condition=models.Q(state="running"),
                name="syncrun_one_running_per_backend",
            )
        ]

    def __str__(self):
        return f"sync of {self.backend} at {self.started_at:%Y-%m-%d %H:%M:%S}"

    @property
    def duration(self):
        return (self.finished_at - self.started_at) if self.finished_at else None

    @property
    def duration_seconds(self) -> float | None:
        return round(self.duration.total_seconds(), 2) if self.finished_at else None

    @property
    def is_running(self) -> bool:
        return self.state == self.State.RUNNING

    def progress(self) -> dict:
        """The JSON-safe counts a page or websocket shows (ids and numbers only)."""
        return {
            "run": self.pk,
            "backend": self.backend,
            "state": self.state,
            "seen": self.seen,
            "created": self.created,
            "changed": self.changed,
            "vanished": self.vanished,
            "errors": self.error_count,
            "duration": self.duration_seconds,
        }

    # -- STYLE.md #8: start / log / finish --------------------------------------------------
    @classmethod
    def start(
        cls, backend: str, *, actor: str, request_id: str = "", state: str = State.RUNNING
    ) -> "SyncRun":
        now = timezone.now()
        return cls.objects.create(
            backend=backend,
            actor=actor,
            request_id=request_id[:64],
            state=state,
            started_at=now,
            heartbeat_at=now,
        )

    def log(self, path: str, error: str) -> None:
        """Record one per-secret problem; the run goes on."""
        self.error_count += 1
        if len(self.errors) < self.MAX_ERRORS:
            self.errors.append({"path": path, "error": error[:1000]})

    def finish(self, state: str, error: str = "") -> bool:
        """Record the outcome, only if this run is still running (a run another process marked
        abandoned stays abandoned). True if it was recorded."""
        self.state = state
        self.error = error[:4000]
        self.finished_at = timezone.now()
        return self.save_progress(final=True)

    def save_progress(self, *, final: bool = False) -> bool:
        """Write the counters (and a fresh heartbeat) if the run is still running; False when it
        is not any more (marked abandoned meanwhile): its worker must stop without writing."""
        now = timezone.now()
        fields = {
            "seen": self.seen,
            "created": self.created,
            "changed": self.changed,
            "vanished": self.vanished,
            "error_count": self.error_count,
            "errors": self.errors,
            "heartbeat_at": now,
        }
        if final:
            fields.update(state=self.state, error=self.error, finished_at=self.finished_at)
        self.heartbeat_at = now
        return SyncRun.objects.filter(pk=self.pk, state=self.State.RUNNING).update(**fields) == 1
