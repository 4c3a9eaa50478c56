import django.core.serializers.json
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("dashboard", "0001_indexes")]

    operations = [
        migrations.CreateModel(
            name="Snapshot",
            fields=[
                ("name", models.CharField(max_length=40, primary_key=True, serialize=False)),
                ("figures", models.JSONField(encoder=django.core.serializers.json.DjangoJSONEncoder)),
                ("computed_at", models.DateTimeField()),
            ],
        ),
    ]
