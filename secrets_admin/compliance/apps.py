from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "secrets_admin.compliance"
    label = "compliance"
    verbose_name = "Compliance"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # audit actions, the mapping file's system check, the dashboard panel
        from secrets_admin.compliance import actions, checks, panels  # noqa: F401
