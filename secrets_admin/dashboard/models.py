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


class AgeCount(models.Model):
    """Signed counts of present secrets per kind and UTC day of their age's start (last rotated,
    else created, else discovered): the age histogram sums them per bucket instead of scanning
    every secret. Rows are appended, never updated, by database triggers on inventory_secret in
    the transaction that changes a secret (migration 0004), so concurrent writers never wait on a
    shared counter row; services.age_counts rebuilds them from a full scan (beat, exact)."""

    kind = models.CharField(max_length=20)
    day = models.DateField(null=True)  # null: a secret with none of the three dates
    n = models.IntegerField()

    def __str__(self) -> str:
        return f"{self.kind} {self.day}: {self.n:+d}"
