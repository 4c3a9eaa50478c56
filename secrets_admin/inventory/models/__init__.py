"""Inventory models: metadata about secrets, never a value (DESIGN.md decision 1)."""

from secrets_admin.inventory.models.policy import RotationPolicy
from secrets_admin.inventory.models.secret import Secret, SecretVersion
from secrets_admin.inventory.models.sync import SyncRun

__all__ = ["RotationPolicy", "Secret", "SecretVersion", "SyncRun"]
