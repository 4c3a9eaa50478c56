from django.core.management.base import BaseCommand, CommandError

from secrets_admin.backends import BackendError, backends_of_kind


class Command(BaseCommand):
    help = (
        "Create the mounts, PKI role, policy and AppRole the console needs in each OpenBao/Vault "
        "(idempotent)."
    )

    def handle(self, *args, **options):
        for backend in backends_of_kind("vault"):
            try:
                changes = backend.bootstrap()
            except BackendError as exc:
                raise CommandError(f"{backend.name}: {exc}") from exc
            summary = "; ".join(changes) if changes else "already configured"
            self.stdout.write(f"{backend.name}: {summary}")
