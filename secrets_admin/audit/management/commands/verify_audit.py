"""python manage.py verify_audit [--full]: check the audit hash chain and its anchor; exit 1 on a break."""

from django.core.management.base import BaseCommand, CommandError

from secrets_admin.audit import sequencer, verification


class Command(BaseCommand):
    help = (
        "Verify the audit ledger's hash chain from the newest anchor outside the database (or "
        "from the start with --full, then against that anchor). Prints where it breaks and exits "
        "with status 1 on tampering; on success the head is anchored anew."
    )

    def add_arguments(self, parser):
        parser.add_argument("--full", action="store_true", help="verify every entry, not only new ones")
        parser.add_argument("--database", default="default", help="database alias (default: default)")

    def handle(self, *args, full=False, database="default", **options):
        lag = sequencer.lag(database)
        outcome = verification.verify(full=full, alias=database)
        kind = "full" if outcome.extra["full"] else f"incremental from #{outcome.extra['from']}"
        waiting = (
            f"{lag.pending} entries wait for the sequencer (oldest {lag.oldest_seconds:.1f} s)"
            if lag.pending
            else "no entry waits for the sequencer"
        )
        anchored = {True: "; head anchored", False: "; ANCHOR NOT WRITTEN (see the audit page)"}
        if outcome.ok:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Audit chain intact ({kind}): {outcome.entries} entries checked, "
                    f"head #{outcome.last} {outcome.last_hash} in {outcome.extra['seconds']:.3f}s"
                )
            )
            self.stdout.write(
                f"Anchor: {outcome.extra['anchor']}{anchored.get(outcome.extra.get('anchored'), '')}. "
                f"Sequencer: {waiting}."
            )
            for fingerprint in outcome.stepped_over:
                self.stdout.write(f"Stepped over an acknowledged break: {fingerprint}")
            return
        lines = [f"AUDIT CHAIN BROKEN at entry #{outcome.broken_at} ({kind}): {outcome.problem}"]
        if outcome.expected or outcome.found:
            lines += [f"  expected hash: {outcome.expected}", f"  found hash:    {outcome.found}"]
        lines.append(
            f"  entries verified before the break: {outcome.entries} (from #{outcome.extra['from']})"
        )
        lines.append(f"  anchor: {outcome.extra['anchor']}; sequencer: {waiting}")
        raise CommandError("\n".join(lines), returncode=1)
