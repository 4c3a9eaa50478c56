from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "secrets_admin.audit"
    label = "audit"
    verbose_name = "Audit ledger"

    def ready(self):
        from secrets_admin.audit import actions, checks  # noqa: F401 (registers the checks)

        actions.register_own()
