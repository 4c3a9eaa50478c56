from django.core.management.base import BaseCommand
from django.db import transaction

from secrets_admin.accounts import crypto
from secrets_admin.accounts.models import AuthenticatorDevice


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored TOTP seed (and alert channel secret) with the first key in "
        "FIELD_ENCRYPTION_KEYS. "
        "Put the new key first, run this, then drop the old key."
    )

    def handle(self, *args, **options):
        count = 0
        with transaction.atomic():
            for device in AuthenticatorDevice.objects.select_for_update().order_by("pk"):
                device.encrypted_key = crypto.rotate(device.encrypted_key)
                device.save(update_fields=["encrypted_key"])
                count += 1
            channels = self._rotate_alert_channels()
        self.stdout.write(f"Re-encrypted {count} TOTP seed(s) with the first FIELD_ENCRYPTION_KEYS key.")
        self.stdout.write(f"Re-encrypted {channels} alert channel secret(s).")

    def _rotate_alert_channels(self) -> int:
        """Webhook URLs and routing keys use the same keys (secrets_admin.alerts)."""
        from secrets_admin.alerts.models import Channel

        count = 0
        for channel in Channel.objects.select_for_update().exclude(encrypted_secret="").order_by("pk"):
            channel.encrypted_secret = crypto.rotate(channel.encrypted_secret)
            channel.save(update_fields=["encrypted_secret"])
            count += 1
        return count
