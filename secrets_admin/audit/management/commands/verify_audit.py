"""python manage.py verify_audit [--full]: check the audit hash chain; exit 1 on a break."""

from django.core.management.base import BaseCommand, CommandError

from secrets_admin.audit import services


class Command(BaseCommand):
    help = (
        "Verify the audit ledger's hash chain from the last good checkpoint (or from the start "
        "with --full). Prints where it breaks and exits with status 1 on tampering."
    )

    def add_arguments(self, parser):
        parser.add_argument("--full", action="store_true", help="verify every entry, not only new ones")
        parser.add_argument("--database", default="default", help="database alias (default: default)")

    def handle(self, *args, full=False, database="default", **options):
        outcome = services.verify(full=full, alias=database)
        kind = "full" if outcome.extra["full"] else f"incremental from #{outcome.extra['from']}"
        if outcome.ok:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Audit chain intact ({kind}): {outcome.entries} entries checked, "
                    f"head #{outcome.last} {outcome.last_hash} in {outcome.extra['seconds']:.3f}s"
                )
            )
            return
        lines = [f"AUDIT CHAIN BROKEN at entry #{outcome.broken_at} ({kind}): {outcome.problem}"]
        if outcome.expected or outcome.found:
            lines += [f"  expected hash: {outcome.expected}", f"  found hash:    {outcome.found}"]
        lines.append(
            f"  entries verified before the break: {outcome.entries} (from #{outcome.extra['from']})"
        )
        raise CommandError("\n".join(lines), returncode=1)
