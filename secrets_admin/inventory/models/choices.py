"""Choice lists shared by the inventory models, forms and filters (derived from the backend contract)."""

from django.db import models

from secrets_admin.backends.base import ENVIRONMENTS, KINDS


class Kind(models.TextChoices):
    API_KEY = "api_key", "API key"
    PASSWORD = "password", "Password"
    DATABASE = "database", "Database credential"
    CERTIFICATE = "certificate", "Certificate"
    GENERIC = "generic", "Generic"


class Environment(models.TextChoices):
    DEVELOPMENT = "development", "Development"
    STAGING = "staging", "Staging"
    PRODUCTION = "production", "Production"


class Status(models.TextChoices):
    OK = "ok", "OK"
    DUE_SOON = "due_soon", "Due soon"
    OVERDUE = "overdue", "Overdue"
    MISSING = "missing", "Missing in backend"
    NEEDS_ATTENTION = "needs_attention", "Needs attention"


class Strategy(models.TextChoices):
    BLUE_GREEN = "blue-green", "Blue-green (two live versions, switch, retire the old)"
    ROLLING = "rolling", "Rolling (replace in place)"
    DYNAMIC = "dynamic", "Dynamic (short-lived credentials issued per lease)"
    GRACEFUL = "graceful", "Graceful (renew before expiry)"


class VersionState(models.TextChoices):
    CURRENT = "current", "Current"
    PREVIOUS = "previous", "Kept (not current)"
    DEPRECATED = "deprecated", "Deprecated"
    DESTROYED = "destroyed", "Destroyed"


assert tuple(Kind.values) == KINDS and tuple(Environment.values) == ENVIRONMENTS  # one vocabulary
