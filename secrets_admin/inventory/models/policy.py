from django.db import models

from secrets_admin.inventory.models.choices import Kind, Strategy


class RotationPolicy(models.Model):
    """How often (or how long before expiry) a kind of secret must be rotated, and how.

    `interval_days` set: due `interval_days` after the last rotation. `interval_days` empty: the
    secret follows its expiry and is due `lead_days` before `expires_at` (certificates, leases).
    The rotation engine (a later issue) reads `strategy`; the inventory only computes due dates.
    """

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    interval_days = models.PositiveIntegerField(null=True, blank=True)
    strategy = models.CharField(max_length=20, choices=Strategy.choices)
    lead_days = models.PositiveIntegerField(default=0, help_text="days before expiry that rotation is due")
    is_default = models.BooleanField(
        default=False, help_text="given to newly discovered secrets of this kind"
    )

    class Meta:
        ordering = ["kind", "name"]
        verbose_name_plural = "rotation policies"
        constraints = [
            models.UniqueConstraint(
                fields=["kind"], condition=models.Q(is_default=True), name="one_default_per_kind"
            )
        ]

    def __str__(self):
        return self.name

    @property
    def summary(self) -> str:
        if self.interval_days:
            return f"every {self.interval_days} days, {self.get_strategy_display().split(' (')[0].lower()}"
        return f"{self.lead_days} days before expiry, {self.get_strategy_display().split(' (')[0].lower()}"
