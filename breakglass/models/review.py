"""After the glass is broken: secrets to rotate ("assume breach") and the post-incident review."""

from django.db import models
from django.urls import reverse


class BreachRotation(models.Model):
    """A secret read during a break-glass grant, queued for rotation when the grant ended.
    `run_id` is the rotation engine's run once it took the job (the engine lands separately)."""

    QUEUED, STARTED, FAILED = "queued", "started", "failed"
    STATES = [(QUEUED, "queued"), (STARTED, "rotation started"), (FAILED, "could not start")]

    grant = models.ForeignKey("breakglass.Grant", on_delete=models.PROTECT, related_name="rotations")
    secret = models.ForeignKey("inventory.Secret", on_delete=models.PROTECT, related_name="+")
    path = models.CharField(max_length=1024)
    state = models.CharField(max_length=10, choices=STATES, default=QUEUED)
    run_id = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)
    queued_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["grant", "secret"], name="bg_rotate_once_per_grant")]

    def __str__(self):
        return f"rotate {self.path} after grant #{self.grant_id}"


class IncidentReview(models.Model):
    """Opened when a break-glass grant ends; signed off by the security team with a code."""

    grant = models.OneToOneField("breakglass.Grant", on_delete=models.PROTECT, related_name="review")
    opened_at = models.DateTimeField(auto_now_add=True)
    notes = models.TextField(blank=True)
    signed_off_at = models.DateTimeField(null=True, blank=True)
    signed_off_by_name = models.CharField(max_length=150, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at"]

    def __str__(self):
        return f"review of grant #{self.grant_id}"

    def get_absolute_url(self):
        return reverse("breakglass:evidence", args=[self.grant.request_id])
