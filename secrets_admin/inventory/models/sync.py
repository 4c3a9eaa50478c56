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

    MAX_ERRORS = 500  # keep the row small; the count stays exact

    backend = models.CharField(max_length=64)
    actor = models.CharField(
        max_length=150, blank=True, help_text="who started it (username or system actor)"
    )
    state = models.CharField(max_length=12, choices=State.choices, default=State.RUNNING)
    started_at = models.DateTimeField(default=timezone.now)
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
    def start(cls, backend: str, *, actor: str, request_id: str = "") -> "SyncRun":
        return cls.objects.create(backend=backend, actor=actor, request_id=request_id[:64])

    def log(self, path: str, error: str) -> None:
        """Record one per-secret problem; the run goes on."""
        self.error_count += 1
        if len(self.errors) < self.MAX_ERRORS:
            self.errors.append({"path": path, "error": error[:1000]})

    def finish(self, state: str, error: str = "") -> None:
        self.state = state
        self.error = error[:4000]
        self.finished_at = timezone.now()
        self.save()
