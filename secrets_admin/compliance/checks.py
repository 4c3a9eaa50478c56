"""System check: the framework mapping must load (compliance.E001 names the mistake's place)."""

from django.core import checks

from secrets_admin.compliance import mapping


@checks.register()
def mapping_loads(app_configs=None, **kwargs):
    try:
        mapping.load(mapping.DEFAULT_PATH)
    except mapping.MappingError as exc:
        return [checks.Error(str(exc), hint="Fix frameworks.yaml at the place named.", id="compliance.E001")]
    return []
