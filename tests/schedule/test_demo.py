"""The demo's schedule: windows and links on the demo estate's secrets, so the 30-day calendar
shows windows and flags one collision (the Stripe key and its webhook secret) in make run."""

import io
from datetime import timedelta

import pytest
from django.utils import timezone

from secrets_admin.audit.models import AuditEntry
from secrets_admin.inventory.models import RotationPolicy, Secret
from secrets_admin.schedule import calendar
from secrets_admin.schedule.demo import LINKS, OVERRIDES, seed_schedule
from secrets_admin.schedule.models import SecretLink, SecretOverride

pytestmark = pytest.mark.django_db


def _estate(now):
    """The demo estate's secrets as a sync leaves them: created a few seconds apart, just now."""
    policies = {p.kind: p for p in RotationPolicy.objects.filter(is_default=True)}
    for i, path in enumerate(sorted({p for p, _ in OVERRIDES})):
        kind = "password" if "password" in path else "api_key"
        made = now - timedelta(seconds=i)
        Secret.objects.create(
            backend="vault", path=f"secret/{path}", name=path, kind=kind, rotation_policy=policies[kind],
            created_at=made, last_rotated=made, next_due=made + timedelta(days=90),
        )  # fmt: skip


def test_seeding_gives_windows_links_and_one_flagged_collision_and_is_idempotent():
    now = timezone.now()
    _estate(now)
    out = io.StringIO()
    seed_schedule(out)
    assert f"{len(OVERRIDES)} demo overrides" in out.getvalue() and f"{len(LINKS)} links" in out.getvalue()
    assert SecretOverride.objects.count() == len(OVERRIDES) and SecretLink.objects.count() == len(LINKS)
    stripe = Secret.objects.get(path="secret/payments/production/stripe-api-key")
    assert stripe.next_due == stripe.last_rotated + timedelta(days=14)  # the inventory follows it

    built = calendar.build(now)
    entries = [entry for day in built.days for entry in day.entries]
    windowed = {e.secret.path for e in entries if e.effective.window is not None}
    assert {
        "secret/payments/production/stripe-api-key",
        "secret/payments/production/ledger-db-password",
    } <= windowed
    assert built.collisions == 1
    flagged = [e for e in entries if e.collides_with]
    assert {e.secret.path for e in flagged} <= {
        "secret/payments/production/stripe-api-key",
        "secret/payments/production/stripe-webhook-secret",
    }
    assert all(e.starts_after - e.slot >= timedelta(minutes=60) for e in flagged if e.starts_after)
    audited = AuditEntry.objects.filter(
        actor_name="manage.py seed_demo", action__startswith="schedule."
    ).count()
    assert audited == len(OVERRIDES) + len(LINKS)

    seed_schedule(io.StringIO())  # make run seeds at every start: nothing twice
    assert SecretOverride.objects.count() == len(OVERRIDES) and SecretLink.objects.count() == len(LINKS)
    assert (
        AuditEntry.objects.filter(actor_name="manage.py seed_demo", action__startswith="schedule.").count()
        == audited
    )
