from django.apps import AppConfig


class RotationConfig(AppConfig):
    name = "secrets_admin.rotation"
    label = "rotation"
    verbose_name = "Rotation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from secrets_admin.rotation import (
            actions,  # noqa: F401  (registers audit action names)
            live,
        )

        live.register()
        from secrets_admin.rotation import leases  # noqa: F401  (its audit action and intent kind)
