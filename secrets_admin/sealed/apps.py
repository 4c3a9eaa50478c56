from django.apps import AppConfig


class SealedConfig(AppConfig):
    name = "secrets_admin.sealed"
    label = "sealed"
    verbose_name = "Sealed Secrets"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from secrets_admin.sealed import actions, checks  # noqa: F401  (audit actions, system checks)
