"""Ledger v2: entries get an insert id and a content hash; the sequencer links them later.

The v1 table (sequence as primary key, one hash over content + sequence + prev_hash, written
under a global lock) is replaced by a v2 table and the existing chain is re-sealed:

1. the v1 chain is verified with the v1 rule; if it is broken the migration stops (set
   AUDIT_UPGRADE_ACCEPT_BREAK=<sequence of the break> to re-seal anyway, after investigating);
2. every entry is copied with id = sequence, its content hash, and v2 chain hashes;
3. a pending `audit.ledger.upgraded` entry records the v1 head (sequence and hash), so the new
   chain vouches for the old one; the sequencer links it like any other entry.

v1 checkpoints name v1 hashes and are dropped. Not reversible.
"""

import hashlib
import json
import os

import django.db.models.deletion
from django.conf import settings
from django.core.management.color import no_style
from django.db import migrations, models
from django.utils import timezone

GENESIS = "0" * 64
V1_FIELDS = (
    "sequence", "created_at", "actor_name", "action", "target_type", "target_id", "target_repr",
    "request_id", "ip", "data", "prev_hash",
)  # fmt: skip


def _v1_hash(row: dict) -> str:
    from secrets_admin.audit.chain import format_time

    document = {name: row[name] for name in V1_FIELDS}
    document["created_at"] = format_time(row["created_at"])
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def drop_v1_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER IF EXISTS audit_auditentry_append_only ON audit_auditentry")
            cursor.execute("DROP FUNCTION IF EXISTS audit_auditentry_append_only()")


def reseal(apps, schema_editor):
    from secrets_admin.audit.chain import content_hash, link_hash

    alias = schema_editor.connection.alias
    old = apps.get_model("audit", "AuditEntry")
    new = apps.get_model("audit", "AuditEntryNext")
    accept = os.environ.get("AUDIT_UPGRADE_ACCEPT_BREAK", "")
    v1_prev, v1_sequence, v2_prev, batch = GENESIS, 0, GENESIS, []
    fields = [*V1_FIELDS, "hash", "actor_id"]
    for row in old.objects.using(alias).order_by("sequence").values(*fields).iterator(chunk_size=2000):
        sequence = row["sequence"]
        intact = sequence == v1_sequence + 1 and row["prev_hash"] == v1_prev and _v1_hash(row) == row["hash"]
        if not intact and accept != str(sequence):
            raise RuntimeError(
                f"The v1 audit chain is broken at entry #{sequence}; it will not be re-sealed. "
                f"Investigate (python manage.py verify_audit --full on the previous release), then "
                f"set AUDIT_UPGRADE_ACCEPT_BREAK={sequence} to re-seal it anyway."
            )
        v1_prev, v1_sequence = row["hash"], sequence
        content = content_hash(*(row[n] for n in V1_FIELDS[1:-1]))
        linked = link_hash(sequence, v2_prev, content)
        batch.append(
            new(
                id=sequence,
                sequence=sequence,
                prev_hash=v2_prev,
                hash=linked,
                content_hash=content,
                linked_at=row["created_at"],
                **{name: row[name] for name in (*V1_FIELDS[1:-1], "actor_id")},
            )
        )
        v2_prev = linked
        if len(batch) >= 1000:
            new.objects.using(alias).bulk_create(batch)
            batch = []
    new.objects.using(alias).bulk_create(batch)
    if v1_sequence:
        data = {"v1_head": v1_sequence, "v1_head_hash": v1_prev, "v1_break_accepted": accept or None}
        now = timezone.now()
        new.objects.using(alias).create(
            id=v1_sequence + 1,
            created_at=now,
            actor_name="system",
            action="audit.ledger.upgraded",
            data=data,
            content_hash=content_hash(now, "system", "audit.ledger.upgraded", "", "", "", "", "", data),
        )
    statements = schema_editor.connection.ops.sequence_reset_sql(no_style(), [new])
    with schema_editor.connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def tidy_names(apps, schema_editor):
    """PostgreSQL keeps the temporary table's name in its key and constraints; say what they are."""
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            for old, new in (("pkey", "pkey"), ("sequence_key", "sequence_key"), ("sequence_check", "sequence_check")):
                cursor.execute(
                    f"ALTER TABLE audit_auditentry RENAME CONSTRAINT audit_auditentrynext_{old} TO audit_auditentry_{new}"
                )


def drop_v1_checkpoints(apps, schema_editor):
    checkpoints = apps.get_model("audit", "AuditCheckpoint")
    checkpoints.objects.using(schema_editor.connection.alias).all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0003_filter_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(drop_v1_trigger, elidable=False),
        migrations.CreateModel(
            name="AuditEntryNext",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("sequence", models.PositiveBigIntegerField(blank=True, null=True, unique=True)),
                ("created_at", models.DateTimeField(db_index=True)),
                ("actor_name", models.CharField(max_length=150)),
                ("action", models.CharField(db_index=True, max_length=100)),
                ("target_type", models.CharField(blank=True, max_length=100)),
                ("target_id", models.CharField(blank=True, max_length=64)),
                ("target_repr", models.CharField(blank=True, max_length=200)),
                ("request_id", models.CharField(blank=True, max_length=64)),
                ("ip", models.CharField(blank=True, max_length=45)),
                ("data", models.JSONField(blank=True, default=dict)),
                ("content_hash", models.CharField(max_length=64)),
                ("prev_hash", models.CharField(blank=True, max_length=64)),
                ("hash", models.CharField(blank=True, max_length=64)),
                ("linked_at", models.DateTimeField(blank=True, null=True)),
                (
                    "actor",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
        ),
        migrations.RunPython(reseal, elidable=False),
        migrations.DeleteModel(name="AuditEntry"),
        migrations.RenameModel(old_name="AuditEntryNext", new_name="AuditEntry"),
        migrations.RunPython(tidy_names, elidable=False),
        migrations.AlterModelOptions(
            name="auditentry",
            options={
                "ordering": [models.F("sequence").desc(nulls_first=True), "-id"],
                "verbose_name_plural": "audit entries",
            },
        ),
        migrations.AddIndex(
            model_name="auditentry",
            index=models.Index(fields=["target_type", "target_id", "sequence"], name="audit_target_seq_idx"),
        ),
        migrations.AddIndex(
            model_name="auditentry",
            index=models.Index(fields=["actor_name", "sequence"], name="audit_actor_seq_idx"),
        ),
        migrations.AddIndex(
            model_name="auditentry",
            index=models.Index(
                condition=models.Q(sequence__isnull=True), fields=["id"], name="audit_pending_idx"
            ),
        ),
        migrations.RunPython(drop_v1_checkpoints, elidable=False),
        migrations.AddField("auditcheckpoint", "kind", models.CharField(blank=True, max_length=20)),
        migrations.AddField(
            "auditcheckpoint", "fingerprint", models.CharField(blank=True, db_index=True, max_length=200)
        ),
        migrations.AddField("auditcheckpoint", "expected", models.CharField(blank=True, max_length=64)),
        migrations.AddField("auditcheckpoint", "found", models.CharField(blank=True, max_length=64)),
        migrations.AddField("auditcheckpoint", "stepped_over", models.JSONField(blank=True, default=list)),
        migrations.AddField("auditcheckpoint", "anchor", models.CharField(blank=True, max_length=300)),
        migrations.CreateModel(
            name="AuditAnchor",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("created_at", models.DateTimeField(auto_now_add=True, db_index=True)),
                ("ok", models.BooleanField()),
                ("reason", models.CharField(max_length=20)),
                ("sequence", models.PositiveBigIntegerField()),
                ("hash", models.CharField(max_length=64)),
                ("store", models.CharField(max_length=300)),
                ("version", models.PositiveBigIntegerField(blank=True, null=True)),
                ("error", models.TextField(blank=True)),
            ],
            options={"ordering": ["-created_at", "-id"]},
        ),
        migrations.CreateModel(
            name="BreakAcknowledgement",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("fingerprint", models.CharField(max_length=200, unique=True)),
                ("broken_at", models.PositiveBigIntegerField()),
                ("actor_name", models.CharField(max_length=150)),
                ("note", models.TextField()),
                (
                    "checkpoint",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to="audit.auditcheckpoint"
                    ),
                ),
            ],
            options={"ordering": ["-created_at", "-id"]},
        ),
        migrations.CreateModel(
            name="Intent",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("kind", models.CharField(max_length=100)),
                ("key", models.CharField(max_length=255)),
                (
                    "state",
                    models.CharField(
                        choices=[("pending", "pending"), ("done", "done"), ("failed", "failed")],
                        default="pending",
                        max_length=10,
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("finished_at", models.DateTimeField(blank=True, null=True)),
                ("actor_name", models.CharField(max_length=150)),
                ("request_id", models.CharField(blank=True, max_length=64)),
                ("data", models.JSONField(blank=True, default=dict)),
                ("result", models.JSONField(blank=True, default=dict)),
                ("error", models.TextField(blank=True)),
                ("attempts", models.PositiveIntegerField(default=0)),
                (
                    "actor",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at", "-id"],
                "indexes": [models.Index(fields=["state", "created_at"], name="intent_state_idx")],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(state="pending"), fields=("key",), name="intent_one_pending_per_key"
                    )
                ],
            },
        ),
    ]
