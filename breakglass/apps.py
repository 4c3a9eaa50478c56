from django.apps import AppConfig


class BreakglassConfig(AppConfig):
    name = "breakglass"
    verbose_name = "Break-glass and access requests"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from breakglass import actions, live  # noqa: F401 (registrations)

        live.register()
        from breakglass import analytics

        analytics.register_panel()
