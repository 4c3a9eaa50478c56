"""What the schedule adds to the inventory's rotation policies: per-policy settings and windows,
per-secret overrides and exemptions, and links between secrets that must not rotate together.

The inventory's RotationPolicy keeps interval, lead and strategy; the rest lives here, one-to-one,
so this app never migrates the inventory's tables.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from secrets_admin.inventory.models import RotationPolicy, Secret
from secrets_admin.inventory.models.choices import Strategy
from secrets_admin.schedule.windows import Window


class WindowFields(models.Model):
    """Allowed rotation days and hours in a named time zone (see windows.py for the meaning)."""

    window_days = models.JSONField(
        default=list, blank=True, help_text="weekdays, 0 = Monday … 6 = Sunday; empty: any time"
    )
    window_start = models.TimeField(null=True, blank=True)
    window_end = models.TimeField(null=True, blank=True)
    window_tz = models.CharField(max_length=64, default="UTC", blank=True)

    class Meta:
        abstract = True

    @property
    def window(self) -> Window | None:
        return Window.of(self.window_days, self.window_start, self.window_end, self.window_tz)


class PolicySettings(WindowFields):
    """The engine's knobs for one policy, beyond what the inventory stores."""

    policy = models.OneToOneField(
        RotationPolicy, primary_key=True, on_delete=models.CASCADE, related_name="settings"
    )
    overlap_hours = models.PositiveIntegerField(
        default=24, help_text="blue-green: how long old and new values both stay valid"
    )
    grace_hours = models.PositiveIntegerField(
        default=24, help_text="how long past due before a missed rotation turns critical"
    )
    max_attempts = models.PositiveSmallIntegerField(
        default=5, help_text="tries per run before a person is needed"
    )

    class Meta:
        verbose_name_plural = "policy settings"

    def __str__(self):
        return f"settings of {self.policy_id}"

    @staticmethod
    def engine_defaults() -> dict:
        """What a policy nobody has edited means: the rotation engine's own settings."""
        return {
            "overlap_hours": getattr(settings, "ROTATION_OVERLAP_HOURS", 24),
            "grace_hours": getattr(settings, "ROTATION_MISSED_GRACE_HOURS", 24),
            "max_attempts": getattr(settings, "ROTATION_MAX_ATTEMPTS", 5),
        }

    @classmethod
    def unsaved(cls, policy=None) -> "PolicySettings":
        """The settings of a policy without a row yet (engine defaults, no window)."""
        return cls(policy=policy, **cls.engine_defaults()) if policy else cls(**cls.engine_defaults())


class SecretOverride(WindowFields):
    """One secret's departures from its policy: another interval, lead, strategy or window, or
    an exemption from scheduled rotation until a date (with the reason written down)."""

    secret = models.OneToOneField(Secret, primary_key=True, on_delete=models.CASCADE, related_name="override")
    interval_days = models.PositiveIntegerField(null=True, blank=True)
    lead_days = models.PositiveIntegerField(null=True, blank=True)
    strategy = models.CharField(max_length=20, choices=Strategy.choices, blank=True)
    exempt_until = models.DateTimeField(null=True, blank=True, help_text="no scheduled rotation before this")
    exempt_reason = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.CharField(max_length=150, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(exempt_until__isnull=True) | ~Q(exempt_reason=""),
                name="override_exemption_has_reason",
            )
        ]

    def __str__(self):
        return f"override of {self.secret_id}"

    @property
    def changes_due_date(self) -> bool:
        return self.interval_days is not None or self.lead_days is not None


class SecretLink(models.Model):
    """Two secrets that must never rotate at the same moment (a key and its consumer).
    Stored once per pair, lower id first: no self-links, and (a, b) and (b, a) are one link."""

    first = models.ForeignKey(Secret, on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey(Secret, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["first_id", "second_id"]
        constraints = [
            models.CheckConstraint(condition=Q(first__lt=F("second")), name="link_ordered_pair"),
            models.UniqueConstraint(fields=["first", "second"], name="link_unique_pair"),
        ]
        indexes = [models.Index(fields=["second"], name="link_second")]

    def __str__(self):
        return f"link {self.first_id} ↔ {self.second_id}"
