"""The dashboard's rollup: its figures computed once and stored, so a page load or a socket
reads one row (by primary key) instead of aggregating 100k secrets and runs each time."""

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class Snapshot(models.Model):
    """One row per figure set (today one, "dashboard"): plain numbers and short words as JSON,
    and when they were computed. Written by services.snapshot only (beat and live events)."""

    name = models.CharField(max_length=40, primary_key=True)
    figures = models.JSONField(encoder=DjangoJSONEncoder)
    computed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} as of {self.computed_at:%H:%M:%S}"
