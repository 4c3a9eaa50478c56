from django.apps import AppConfig


class UsageConfig(AppConfig):
    name = "secrets_admin.usage"
    label = "usage"
    verbose_name = "Access patterns and cost"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from breakglass.services import recording
        from secrets_admin.usage import actions, panels  # noqa: F401 (actions: registered)
        from secrets_admin.usage.services import ingest

        recording.add_consumer(ingest.consume)
        panels.register_all()
