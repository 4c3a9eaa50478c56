from django.apps import AppConfig


class SecretsAdminConfig(AppConfig):
    name = "secrets_admin"
    verbose_name = "Secrets"
