"""The schedule in the demo (`seed_demo`, `make run`): rotation windows and links between secrets,
so the 30-day calendar shows windows and flags a collision before it happens.

- The Stripe key and the webhook secret that goes with it are linked and share a window
  (Tuesdays 02:00–04:00 Europe/Berlin) and a 14-day interval: both are planned at the same
  Tuesday 02:00, the calendar flags the collision and shows the webhook secret staggered.
- The Okta token and the SCIM token are linked too (one provisions the users the other syncs),
  due a week apart: linked, no collision.
- The ledger's database password rotates only on Saturday nights (01:00–05:00 Europe/Berlin).

Seeded as the system (no one-time code), each change audited like the pages' own, in one short
transaction per secret; running it again changes nothing.
"""

from datetime import time

from django.db import transaction

from secrets_admin.audit.services import record
from secrets_admin.inventory.models import Secret
from secrets_admin.inventory.services import status as status_service
from secrets_admin.schedule import actions
from secrets_admin.schedule.models import SecretLink, SecretOverride

SEEDER = "manage.py seed_demo"
KV = "secret/"
TUESDAY_NIGHT = {
    "window_days": [1],
    "window_start": time(2),
    "window_end": time(4),
    "window_tz": "Europe/Berlin",
}
SATURDAY_NIGHT = {
    "window_days": [5],
    "window_start": time(1),
    "window_end": time(5),
    "window_tz": "Europe/Berlin",
}
OVERRIDES = [
    ("payments/production/stripe-api-key", {"interval_days": 14, **TUESDAY_NIGHT}),
    ("payments/production/stripe-webhook-secret", {"interval_days": 14, **TUESDAY_NIGHT}),
    ("identity/production/okta-api-token", {"interval_days": 10}),
    ("identity/staging/scim-token", {"interval_days": 17}),
    ("payments/production/ledger-db-password", {"interval_days": 21, **SATURDAY_NIGHT}),
]
LINKS = [
    ("payments/production/stripe-api-key", "payments/production/stripe-webhook-secret",
     "the webhook secret is checked with the key: rotate one, then the other"),
    ("identity/production/okta-api-token", "identity/staging/scim-token",
     "SCIM syncs the users Okta provisions"),
]  # fmt: skip


def _secret(path: str) -> Secret | None:
    return Secret.objects.filter(backend="vault", path=KV + path, missing_since__isnull=True).first()


def seed_schedule(stdout) -> None:
    overrides = sum(_override(path, values) for path, values in OVERRIDES)
    links = sum(_link(first, second, reason) for first, second, reason in LINKS)
    stdout.write(
        f"schedule: {overrides} demo overrides with windows or intervals, {links} links "
        "(the calendar flags the Stripe key and its webhook secret: same Tuesday-night window)"
    )


def _override(path: str, values: dict) -> int:
    secret = _secret(path)
    if secret is None:
        return 0
    with transaction.atomic():
        override, created = SecretOverride.objects.get_or_create(
            secret=secret, defaults={**values, "updated_by": SEEDER}
        )
        if not created:
            return 0
        status_service.refresh(secret)  # the inventory's due date follows the override
        secret.save(update_fields=["next_due", "status"])
        changes = {name: [None, str(value)] for name, value in values.items()}
        record(
            actions.OVERRIDE_SAVED, actor=SEEDER, target=secret, data={"changes": changes, "created": True}
        )
    return 1


def _link(first_path: str, second_path: str, reason: str) -> int:
    found = [_secret(first_path), _secret(second_path)]
    if None in found:
        return 0
    first, second = sorted(found, key=lambda s: s.pk)
    with transaction.atomic():
        link, created = SecretLink.objects.get_or_create(
            first=first, second=second, defaults={"reason": reason, "created_by": SEEDER}
        )
        if created:
            data = {"other": str(second), "other_id": second.pk, "reason": reason}
            record(actions.LINK_CREATED, actor=SEEDER, target=first, data=data)
    return int(created)
