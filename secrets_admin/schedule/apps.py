from django.apps import AppConfig


class ScheduleConfig(AppConfig):
    name = "secrets_admin.schedule"
    label = "schedule"
    verbose_name = "Rotation schedule"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from secrets_admin.schedule import actions  # noqa: F401  (registers audit action names)
