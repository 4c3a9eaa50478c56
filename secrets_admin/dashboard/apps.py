from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "secrets_admin.dashboard"
    label = "dashboard"
    verbose_name = "Dashboard"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from secrets_admin.dashboard import (
            actions,  # noqa: F401  (registers audit action names)
            charts,
            live,
            tiles,
        )

        live.register()
        tiles.register()
        charts.register()
