from django.db import migrations

# name, kind, interval_days, strategy, lead_days
DEFAULTS = (
    ("api-key-90-days", "api_key", 90, "blue-green", 0),
    ("password-30-days", "password", 30, "rolling", 0),
    ("database-7-days", "database", 7, "dynamic", 0),
    ("certificate-30-days-before-expiry", "certificate", None, "graceful", 30),
)


def create(apps, schema_editor):
    RotationPolicy = apps.get_model("inventory", "RotationPolicy")
    db = schema_editor.connection.alias
    for name, kind, interval, strategy, lead in DEFAULTS:
        RotationPolicy.objects.using(db).get_or_create(
            name=name,
            defaults={"kind": kind, "interval_days": interval, "strategy": strategy, "lead_days": lead, "is_default": True},
        )


def remove(apps, schema_editor):
    db = schema_editor.connection.alias
    apps.get_model("inventory", "RotationPolicy").objects.using(db).filter(name__in=[d[0] for d in DEFAULTS]).delete()


class Migration(migrations.Migration):
    dependencies = [("inventory", "0001_initial")]
    operations = [migrations.RunPython(create, remove)]
