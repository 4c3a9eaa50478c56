"""Single-flight sync: a heartbeat per run, "skipped" and "abandoned" states, and a partial unique
index allowing one running run per backend. Runs left "running" by the old code (all but the
newest per backend can only be dead) are marked abandoned first, so the index can be built."""

from django.db import migrations, models


def abandon_duplicates(apps, schema_editor):
    SyncRun = apps.get_model("inventory", "SyncRun")
    newest = {}
    for run in SyncRun.objects.filter(state="running").order_by("-started_at", "-id"):
        if run.backend in newest:
            SyncRun.objects.filter(pk=run.pk).update(
                state="abandoned",
                finished_at=run.started_at,
                error="abandoned: a newer run of the same backend was running (found by migration 0004)",
            )
        else:
            newest[run.backend] = run.pk


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0003_status_environment_kind_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="syncrun",
            name="heartbeat_at",
            field=models.DateTimeField(
                blank=True, help_text="last sign of life of a running run (moves as it walks)", null=True
            ),
        ),
        migrations.AlterField(
            model_name="syncrun",
            name="state",
            field=models.CharField(
                choices=[
                    ("running", "Running"),
                    ("succeeded", "Succeeded"),
                    ("partial", "Finished with errors"),
                    ("failed", "Failed"),
                    ("skipped", "Skipped (another run was going)"),
                    ("abandoned", "Abandoned (its worker stopped)"),
                ],
                default="running",
                max_length=12,
            ),
        ),
        migrations.RunPython(abandon_duplicates, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="syncrun",
            constraint=models.UniqueConstraint(
                condition=models.Q(("state", "running")),
                fields=("backend",),
                name="syncrun_one_running_per_backend",
            ),
        ),
    ]
