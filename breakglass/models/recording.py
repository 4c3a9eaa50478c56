"""Where the session-recording reader is in OpenBao's audit file."""

from django.db import models


class AuditCursor(models.Model):
    """One row per audit file path. `file_id` ("device:inode") tells a rotated file from the
    one read before; `offset` is the byte after the last line whose events were stored, moved in
    the same transaction as those events, so a restart neither repeats nor skips a line."""

    path = models.CharField(max_length=1024, unique=True)
    file_id = models.CharField(max_length=200, blank=True)
    offset = models.BigIntegerField(default=0)
    lines = models.BigIntegerField(default=0, help_text="lines read from this file so far")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.path} @ {self.offset}"
