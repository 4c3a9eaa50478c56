"""python manage.py run_sequencer: link committed audit entries into the chain, continuously."""

import signal
import threading

from django.core.management.base import BaseCommand

from secrets_admin.audit import sequencer


class Command(BaseCommand):
    help = (
        "Run the audit sequencer: every AUDIT_SEQUENCER_INTERVAL_MS it links committed entries "
        "into the hash chain (one process is enough; more wait for each other's lock). Stops on "
        "SIGTERM or SIGINT after the batch in progress."
    )

    def add_arguments(self, parser):
        parser.add_argument("--database", default="default", help="database alias (default: default)")
        parser.add_argument("--once", action="store_true", help="link what is waiting, then exit")

    def handle(self, *args, database="default", once=False, **options):
        if once:
            self.stdout.write(f"linked {sequencer.link(alias=database)} entries")
            return
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        sequencer.run(alias=database, stop=stop)
