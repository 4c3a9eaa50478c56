"""Access patterns from OpenBao's audit device, as metadata only, rolled up per hour.

A row counts the requests one identity made with one operation on one path within one hour.
No request or response data is kept: the path, the operation, the token's display name and
entity id, and a count. `secret` links the row to the inventory when the path is a known secret.
"""

from django.db import models


class HourlyAccess(models.Model):
    hour = models.DateTimeField(help_text="the hour's start, UTC")
    path = models.CharField(max_length=1024, help_text="the secret's inventory path (KV: without data/)")
    secret = models.ForeignKey(
        "inventory.Secret", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    identity = models.CharField(max_length=255, help_text="the token's display name")
    entity = models.CharField(max_length=64, blank=True, help_text="OpenBao entity id, if any")
    operation = models.CharField(max_length=20)
    count = models.BigIntegerField(default=0)
    demo = models.BooleanField(default=False, help_text="seeded demo history, not read from OpenBao")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["hour", "path", "identity", "entity", "operation", "demo"],
                name="usage_hourly_once",
            )
        ]
        indexes = [
            models.Index(fields=["hour"], name="usage_hourly_hour"),
            models.Index(fields=["secret", "hour"], name="usage_hourly_secret_hour"),
            models.Index(fields=["identity", "hour"], name="usage_hourly_identity_hour"),
        ]

    def __str__(self):
        return f"{self.hour:%Y-%m-%d %H}:00 {self.identity} {self.operation} {self.path} ×{self.count}"


class DailyAccess(models.Model):
    """The hourly rollup summed per UTC day (same key but `day`), with the last hour of that day
    that had requests: ranges longer than a week read these rows, so a 90-day view reads up to 24
    times fewer rows than the hours. Written with the hours, in the same upsert's transaction
    (services.ingest.add_counts); pruned and re-linked with them (services.daily)."""

    day = models.DateField()
    path = models.CharField(max_length=1024)
    secret = models.ForeignKey(
        "inventory.Secret", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    identity = models.CharField(max_length=255)
    entity = models.CharField(max_length=64, blank=True)
    operation = models.CharField(max_length=20)
    count = models.BigIntegerField(default=0)
    last_hour = models.DateTimeField(help_text="the day's last hour with requests (UTC)")
    demo = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "path", "identity", "entity", "operation", "demo"], name="usage_daily_once"
            )
        ]
        indexes = [
            models.Index(fields=["day", "operation"], name="usage_daily_day_op"),
            models.Index(fields=["secret", "day"], name="usage_daily_secret_day"),
            models.Index(fields=["identity", "day"], name="usage_daily_identity_day"),
        ]

    def __str__(self):
        return f"{self.day} {self.identity} {self.operation} {self.path} ×{self.count}"


class LastRead(models.Model):
    """When each path was last read, kept with the rollup so "not read in 90 days" is one join
    over the inventory rather than a scan of the rollup."""

    path = models.CharField(max_length=1024, unique=True)
    last_read_at = models.DateTimeField()

    def __str__(self):
        return f"{self.path} last read {self.last_read_at:%Y-%m-%d %H:%M}"


class IngestMark(models.Model):
    """How far the rollup has counted one audit file: lines before `offset` are in it. The
    reader's own cursor may be lost or reset (it then reads the file again from an earlier
    place); this mark, written in the same transaction as the counts, makes such a re-read add
    nothing. A file is known by its first line's sha256, so a copy or a move is the same file and
    a rotated one (new first line) a new one."""

    file = models.CharField(max_length=64, unique=True, help_text="sha256 of the file's first line")
    path = models.CharField(max_length=1024, help_text="where it was last read")
    offset = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.path} counted up to byte {self.offset}"


class Summary(models.Model):
    """The home-page panels' figures (spikes, stale counts, secrets per tier), computed by beat
    every few minutes (`usage.summarise`) so a panel reads one row, whatever the estate's size.
    Derived data only: the pages compute the same figures live."""

    name = models.CharField(max_length=40, unique=True)
    computed_at = models.DateTimeField()
    figures = models.JSONField(default=dict)

    def __str__(self):
        return f"{self.name} as of {self.computed_at:%Y-%m-%d %H:%M}"
