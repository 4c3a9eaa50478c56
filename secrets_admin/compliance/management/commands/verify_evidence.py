"""manage.py verify_evidence ZIP [--online]: verify an evidence export offline; audit it when a
database answers.

With --online, the zip's anchors are also read back from this console's anchor store in OpenBao
(secrets_admin.compliance.online): a zip rewritten together with its anchors fails there.

Exit 0 verified, 1 verification failed, 2 not a readable export (or bad arguments). The checks
need no database and no network (secrets_admin.compliance.verifier); afterwards, if this
console's database answers, the verification is recorded in the audit log
(`compliance.evidence.verified`, as `cli:<os user>`) and the ledger is asked whether this console
made that export (its manifest's sha256 in a `compliance.evidence.completed` entry).
"""

import getpass
import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand
from django.db import DatabaseError, transaction

from secrets_admin.compliance import verifier


class Command(BaseCommand):
    help = "Verify an evidence export (zip) offline: manifest hashes, the audit chain, the anchors."
    requires_system_checks = []  # runs where no database or backend is reachable

    def add_arguments(self, parser):
        parser.add_argument("zip", help="the evidence export to verify")
        parser.add_argument("--json", action="store_true", help="print the report as JSON")
        parser.add_argument(
            "--online",
            action="store_true",
            help="also check the zip's anchors against this console's anchor store in OpenBao",
        )

    def handle(self, *args, **options):
        report = verifier.verify(options["zip"])
        if options["online"] and report.code < 2:
            from secrets_admin.compliance import online

            online.verify_anchors(options["zip"], report)
        if options["json"]:
            self.stdout.write(json.dumps({"outcome": report.outcome, **report.__dict__}, indent=2))
        else:
            for line in report.lines:
                self.stdout.write(f"ok: {line}")
            for line in report.warnings:
                self.stdout.write(f"warning: {line}")
            for line in report.problems:
                self.stderr.write(f"FAILED: {line}")
        self.online = options["online"]
        self._audit(report, Path(options["zip"]).name)
        self.stdout.write(f"evidence {report.outcome}")
        sys.exit(report.code)

    def _audit(self, report, name):
        try:
            from secrets_admin.audit.models import AuditEntry
            from secrets_admin.audit.services import record
            from secrets_admin.compliance import actions

            made = None
            if report.manifest_sha256:
                made = (
                    AuditEntry.objects.filter(
                        action=actions.EVIDENCE_COMPLETED, data__manifest_sha256=report.manifest_sha256
                    )
                    .values_list("sequence", "actor_name")
                    .first()
                )
            with transaction.atomic():
                record(
                    actions.EVIDENCE_VERIFIED,
                    actor=f"cli:{getpass.getuser()}",
                    data={
                        "file": name[:200],
                        "outcome": report.outcome,
                        "manifest_sha256": report.manifest_sha256,
                        "entries": report.entries,
                        "anchors": report.anchors,
                        "online": bool(self.online),
                        "problems": report.problems[:5],
                    },
                )
        except (DatabaseError, OSError) as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            self.stderr.write(f"note: not recorded in the audit log (no database: {reason[:200]})")
            return
        if made:
            self.stdout.write(
                f"ok: this console's audit log records this export (entry #{made[0]} by {made[1]})"
            )
        elif report.manifest_sha256:
            self.stdout.write(
                "note: this console's audit log has no export with this manifest (made elsewhere?)"
            )
        self.stdout.write("note: this verification is recorded in the audit log")
