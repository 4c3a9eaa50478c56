from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "secrets_admin.dashboard"
    label = "dashboard"
    verbose_name = "Dashboard"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.db.models.signals import post_migrate

        from secrets_admin.dashboard import (
            actions,  # noqa: F401  (registers audit action names)
            charts,
            live,
            sqlite_triggers,
            tiles,
        )

        post_migrate.connect(sqlite_triggers.restore, sender=self, dispatch_uid="dashboard.sqlite_triggers")
        live.register()
        tiles.register()
        charts.register()
