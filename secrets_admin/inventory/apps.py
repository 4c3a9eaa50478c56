from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "secrets_admin.inventory"
    label = "inventory"
    verbose_name = "Inventory"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from secrets_admin.inventory import (
            actions,  # noqa: F401  (registers audit action names)
            live,
        )

        live.register()
