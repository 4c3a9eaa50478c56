from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "secrets_admin.accounts"
    label = "accounts"
    verbose_name = "Accounts and MFA"

    def ready(self):
        from django.core import checks

        from secrets_admin.accounts import actions, admin, signals  # noqa: F401  (registration)
        from secrets_admin.accounts.checks import field_keys

        admin.install()
        checks.register(field_keys, checks.Tags.security, deploy=False)
