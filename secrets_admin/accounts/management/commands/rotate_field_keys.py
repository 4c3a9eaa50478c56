from django.core.management.base import BaseCommand
from django.db import transaction

from secrets_admin.accounts import crypto
from secrets_admin.accounts.models import AuthenticatorDevice


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored TOTP seed with the first key in FIELD_ENCRYPTION_KEYS. "
        "Put the new key first, run this, then drop the old key."
    )

    def handle(self, *args, **options):
        count = 0
        with transaction.atomic():
            for device in AuthenticatorDevice.objects.select_for_update().order_by("pk"):
                device.encrypted_key = crypto.rotate(device.encrypted_key)
                device.save(update_fields=["encrypted_key"])
                count += 1
        self.stdout.write(f"Re-encrypted {count} TOTP seed(s) with the first FIELD_ENCRYPTION_KEYS key.")
