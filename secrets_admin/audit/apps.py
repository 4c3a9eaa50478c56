from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "secrets_admin.audit"
    label = "audit"
    verbose_name = "Audit ledger"

    def ready(self):
        from django.db.models.signals import post_migrate

        from secrets_admin.audit import actions, checks  # noqa: F401 (registers the checks)
        from secrets_admin.audit.db_roles import on_post_migrate

        actions.register_own()
        post_migrate.connect(on_post_migrate, sender=self, dispatch_uid="audit.grant_runtime_role")
