"""`manage.py rotate PATH_OR_ID [--backend NAME] [--wait] [--json]` and `manage.py rotate --due`.

Exit codes: 0 started (or, with --wait, finished); 1 the run failed or needs a person; 2 bad
input (unknown secret, the policy forbids, a run already active) with a message. Prints the run
id, the strategy, each step and the new version id: never a value.
"""

import getpass
import json
import sys
import time

from django.core.management.base import BaseCommand

from secrets_admin.inventory.models import Secret
from secrets_admin.rotation.models import RotationRun
from secrets_admin.rotation.services import RotationRefused, start_run
from secrets_admin.rotation.services.scheduler import start_due

WAIT_TIMEOUT = 600  # seconds --wait waits before giving up (exit 1)


class BadInput(Exception):
    pass


class Command(BaseCommand):
    help = "Start a rotation run for one secret (by path, ARN or inventory id), or for every due secret."

    def add_arguments(self, parser):
        parser.add_argument(
            "secret", nargs="?", help="the secret's path (KV), name or ARN (AWS), or inventory id"
        )
        parser.add_argument("--backend", help="the backend, when a path exists in more than one")
        parser.add_argument("--due", action="store_true", help="start runs for every due secret")
        parser.add_argument(
            "--wait", action="store_true", help="wait for the run to end; exit 0 only if it finished"
        )
        parser.add_argument("--json", action="store_true", help="print one JSON document")

    def handle(self, *args, **options):
        actor = f"cli:{getpass.getuser()}"  # who ran it, as the operating system knows them
        try:
            if options["due"]:
                if options["secret"]:
                    raise BadInput("give either a secret or --due, not both")
                return self._due(actor, options)
            secret = self._find(options["secret"], options["backend"])
            run = start_run(secret, actor=actor, reason=RotationRun.Reason.CLI)
        except (BadInput, RotationRefused) as exc:
            self.stderr.write(f"rotate: {exc}")
            sys.exit(2)
        self._say(options, f"run {run.pk}: {run.strategy} rotation of {secret} started (token {run.token})")
        if options["wait"]:
            run = self._wait(run, options)
        self._report(run, options)
        if run.state in (RotationRun.State.FAILED, RotationRun.State.NEEDS_PERSON) or (
            options["wait"] and run.state != RotationRun.State.FINISHED
        ):
            sys.exit(1)

    def _find(self, key, backend) -> Secret:
        if not key:
            raise BadInput("name a secret (path, ARN or inventory id) or pass --due")
        secrets = Secret.objects.all()
        if backend:
            secrets = secrets.filter(backend=backend)
        found = list(secrets.filter(path=key)[:2]) or list(secrets.filter(name=key)[:2])
        if not found and key.isdigit():
            found = list(secrets.filter(pk=int(key)))
        if not found:
            raise BadInput(f"no secret {key!r} in the inventory{f' of {backend}' if backend else ''}")
        if len(found) > 1:
            raise BadInput(f"{key!r} names secrets in several backends; add --backend")
        return found[0]

    def _wait(self, run: RotationRun, options) -> RotationRun:
        shown, deadline = 0, time.monotonic() + WAIT_TIMEOUT
        while time.monotonic() < deadline:
            run.refresh_from_db()
            steps = list(run.steps.all())
            for step in steps[shown:]:
                if step.ok is not None:
                    self._say(options, _step_line(step))
                    shown += 1
                else:
                    break
            if not run.active:
                return run
            time.sleep(0.5)
        self.stderr.write(
            f"rotate: run {run.pk} did not end within {WAIT_TIMEOUT}s; it goes on (see its page)"
        )
        return run

    def _report(self, run: RotationRun, options):
        run.refresh_from_db()
        if options["json"]:
            document = {
                "run": run.pk, "secret": str(run.secret), "strategy": run.strategy, "state": run.state,
                "step": run.step, "new_version_id": run.new_version_id or None, "error": run.error or None,
                "steps": [{"name": s.name, "attempt": s.attempt, "ok": s.ok, "duration_ms": s.duration_ms,
                           "error": s.error or None} for s in run.steps.all()],
            }  # fmt: skip
            self.stdout.write(json.dumps(document))
            return
        line = f"run {run.pk}: {run.get_state_display().lower()}"
        if run.new_version_id:
            line += f", new version {run.new_version_id}"
        if run.error:
            line += f" ({run.error})"
        self.stdout.write(line)

    def _due(self, actor, options):
        counts = start_due(actor=actor)
        if options["json"]:
            self.stdout.write(json.dumps(counts))
        else:
            self.stdout.write(", ".join(f"{name} {count}" for name, count in counts.items()))

    def _say(self, options, line):
        if not options["json"]:
            self.stdout.write(line)


def _step_line(step) -> str:
    if step.ok:
        facts = " ".join(
            f"{k}={v}" for k, v in step.facts.items() if k in ("pending_version", "new_version_id")
        )
        return f"  {step.name}: ok in {step.duration_ms} ms{' ' + facts if facts else ''}"
    return f"  {step.name}: failed (attempt {step.attempt}): {step.error}"
