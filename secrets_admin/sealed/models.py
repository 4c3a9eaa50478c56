"""What the console keeps about Sealed Secrets beyond the inventory: the sealing keys it has seen
(and whether the security team backed each up) and the re-seal campaigns people started.
Metadata only: fingerprints, dates, names and counts."""

from django.conf import settings
from django.db import models
from django.urls import reverse


class SealingKey(models.Model):
    """A controller key pair the console has seen a certificate of. The private key lives in the
    cluster only; losing it (a cluster rebuilt without a backup) makes every manifest sealed for
    it unreadable, hence the backup reminder until someone says it is done."""

    fingerprint = models.CharField(max_length=80, unique=True)
    subject = models.CharField(max_length=255)
    not_after = models.DateTimeField()
    first_seen = models.DateTimeField(auto_now_add=True)
    backed_up_at = models.DateTimeField(null=True, blank=True)
    backed_up_by = models.CharField(max_length=150, blank=True)  # copied: names outlive users

    class Meta:
        ordering = ["first_seen", "id"]

    def __str__(self):
        return f"sealing key {self.fingerprint}"

    @property
    def alert_key(self) -> str:
        return f"sealed.key_backup:{self.fingerprint}"


class ResealCampaign(models.Model):
    """Re-seal every manifest sealed for an old, expiring or expired certificate: one rotation run
    (reason `campaign`) per manifest, started after the campaign's own commit."""

    started_at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    actor_name = models.CharField(max_length=150)
    statuses = models.JSONField(default=list)  # the certificate statuses it covers
    wanted = models.PositiveIntegerField(default=0)  # manifests it meant to re-seal
    started_runs = models.JSONField(default=list)  # RotationRun ids
    refused = models.JSONField(default=list)  # [{"secret": id, "path": ..., "reason": words}]
    launched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self):
        return f"re-seal campaign #{self.pk}"

    def get_absolute_url(self):
        return reverse("sealed:overview") + f"#campaign-{self.pk}"
