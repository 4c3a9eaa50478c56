from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "secrets_admin.alerts"
    label = "alerts"
    verbose_name = "Alerts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from secrets_admin.alerts import actions  # noqa: F401  (registers audit action names)
