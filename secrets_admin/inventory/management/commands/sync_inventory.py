from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from secrets_admin.inventory.models import SyncRun
from secrets_admin.inventory.services.sync import sync_backend


class Command(BaseCommand):
    help = "Sync the inventory from every configured backend (or one, with --backend). Reads metadata only."

    def add_arguments(self, parser):
        parser.add_argument("--backend", help=f"one of: {', '.join(settings.SECRET_BACKENDS)}")

    def handle(self, *args, backend=None, **options):
        if backend and backend not in settings.SECRET_BACKENDS:
            raise CommandError(
                f"no backend named {backend!r}; configured: {', '.join(settings.SECRET_BACKENDS)}"
            )
        failed = []
        for name in [backend] if backend else list(settings.SECRET_BACKENDS):
            run = sync_backend(name, actor="manage.py sync_inventory")
            self.stdout.write(
                f"{name}: {run.get_state_display().lower()} in {run.duration_seconds}s — seen {run.seen}, "
                f"created {run.created}, changed {run.changed}, vanished {run.vanished}, "
                f"errors {run.error_count}"
            )
            for problem in run.errors[:20]:
                self.stdout.write(f"  {problem['path']}: {problem['error']}")
            if run.state in (SyncRun.State.FAILED, SyncRun.State.ABANDONED):
                self.stderr.write(f"  {run.error}")
                failed.append(name)
            elif run.state == SyncRun.State.SKIPPED:
                self.stderr.write(f"  {run.error}")  # not a failure: the running sync does the work
        if failed:
            raise CommandError(f"sync failed for: {', '.join(failed)}")
