from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "secrets_admin.accounts"
    label = "accounts"
    verbose_name = "Accounts and MFA"

    def ready(self):
        from secrets_admin.accounts import actions, admin, signals  # noqa: F401  (registration)

        admin.install()
