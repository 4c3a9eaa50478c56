"""The weekly digest's snapshots: the headline numbers of each week, kept to compare with the
next week's (what changed), and to show that a digest went out."""

from django.db import models


class WeeklySnapshot(models.Model):
    week = models.DateField(unique=True, help_text="the Monday (UTC) of the week the digest is for")
    taken_at = models.DateTimeField()
    numbers = models.JSONField(default=dict, help_text="flat {figure: number or word}; never a value")
    recipients = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True, help_text="empty until the mail went out")

    class Meta:
        ordering = ["-week"]

    def __str__(self):
        return f"weekly digest of {self.week:%Y-%m-%d}"
