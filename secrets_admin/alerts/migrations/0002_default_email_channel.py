from django.db import migrations

# A fresh console mails the security team about every alert; Slack and PagerDuty are added
# (with their secrets) from the Alerts page.
NAME = "Security team email"
CONFIG = {"addresses": [], "groups": ["security-team"]}
SEVERITIES = ("info", "warning", "critical")


def create(apps, schema_editor):
    db = schema_editor.connection.alias
    Channel = apps.get_model("alerts", "Channel")
    Route = apps.get_model("alerts", "Route")
    channel, created = Channel.objects.using(db).get_or_create(name=NAME, defaults={"kind": "email", "config": CONFIG})
    if created:
        Route.objects.using(db).bulk_create(Route(channel=channel, severity=s) for s in SEVERITIES)


def remove(apps, schema_editor):
    apps.get_model("alerts", "Channel").objects.using(schema_editor.connection.alias).filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("alerts", "0001_initial")]
    operations = [migrations.RunPython(create, remove)]
