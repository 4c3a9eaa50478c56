from django.apps import AppConfig


class BreakglassConfig(AppConfig):
    name = "breakglass"
    verbose_name = "Break-glass and access requests"
