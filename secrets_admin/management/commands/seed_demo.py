from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from secrets_admin import demo, demo_estate


class Command(BaseCommand):
    help = "Create demo users (and demo data in the backends) for `make run`. Development only."

    def handle(self, *args, **options):
        if settings.CONSOLE_ENV != "development":
            raise CommandError(
                "seed_demo writes public demo passwords; it runs only with CONSOLE_ENV=development."
            )
        users = demo.seed_users()
        lines = [f"Demo logins (password for all: {demo.DEMO_PASSWORD}):"]
        lines += [f"  {username:<8} {group}" for username, group in users]
        hint = "python -c \"import pyotp; print(pyotp.TOTP('KEY').now())\""
        lines += ["", f"TOTP keys (add to an authenticator app, or: {hint}):"]
        lines += [f"  {username:<8} {key}  {uri}" for username, key, uri in demo.seed_authenticators()]
        text = "\n".join(lines)
        settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
        (settings.DATA_DIR / "demo-logins.txt").write_text(text + "\n")
        self.stdout.write(text)
        demo_estate.seed_estate(self.stdout)
        self._sync_inventory()
        from secrets_admin.rotation.demo import seed_rotation

        seed_rotation(self.stdout)
        from secrets_admin.schedule.demo import seed_schedule

        seed_schedule(self.stdout)
        from secrets_admin.demo_targets import make_due

        make_due(self.stdout)
        from secrets_admin.usage.demo import seed_usage

        seed_usage(self.stdout)
        from secrets_admin.dashboard.demo import seed_history

        seed_history(self.stdout)
        self._check_alerts()
        self._check_sealing_keys()
        self._verify_audit()

    def _sync_inventory(self):
        """Sync every backend so the console shows the estate on first start (never fatal here)."""
        from secrets_admin.inventory.services.sync import sync_backend

        for name in settings.SECRET_BACKENDS:
            run = sync_backend(name, actor="manage.py seed_demo")
            self.stdout.write(
                f"inventory sync of {name}: {run.state}, {run.seen} seen, {run.created} new, "
                f"{run.error_count} problems{f' ({run.error})' if run.error else ''}"
            )

    def _check_alerts(self):
        """Raise the certificate alerts the demo estate deserves now rather than after beat's
        first hourly check (their emails go out once the worker starts)."""
        from secrets_admin.alerts.conditions import check_certificates

        result = check_certificates()
        self.stdout.write(f"alerts: {len(result['raised'])} certificate(s) expire within 30 days")

    def _check_sealing_keys(self):
        """Note the demo's sealing keys now, so the backup reminder shows from the first start."""
        from secrets_admin.sealed.services import check_sealing_keys

        result = check_sealing_keys()
        self.stdout.write(f"sealed secrets: {len(result['reminded'])} sealing key(s) await a backup")

    def _verify_audit(self):
        """Link what the demo wrote and check the chain once (which anchors its head), so the
        audit page's badge has a status from the start."""
        from secrets_admin.audit import sequencer
        from secrets_admin.audit.verification import verify

        sequencer.link()
        outcome = verify(full=True)
        state = "intact" if outcome.ok else f"BROKEN at #{outcome.broken_at}: {outcome.problem}"
        self.stdout.write(f"audit chain: {state} ({outcome.last} entries)")
