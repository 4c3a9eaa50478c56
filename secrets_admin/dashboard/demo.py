"""Demo history for the dashboard (`seed_demo`, `make run`): 90 days of past rotation runs, most
finished and some failed, and past access grants, so the tiles and charts mean something on
first start. Development only (seed_demo refuses to run elsewhere).

Everything written here says it is demo data (actor "demo history (seed_demo)", state_data
{"demo": true}, errors starting "demo history:") and is audited like the rest of the demo
seeding: one ledger entry per row, in the same transaction. Past rows change no secret: the
inventory's own dates and versions stay what the backends say. Idempotent: seeded once."""

import random
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from secrets_admin.audit.services import record
from secrets_admin.dashboard.actions import DEMO_SEEDED
from secrets_admin.dashboard.live import changed

SEEDER = "manage.py seed_demo"
MARK = "demo history (seed_demo)"
DAYS = 90
STANDING = (1, 4)  # secrets (by path order) whose latest demo run failed
FAILURES = (
    "demo history: the provider refused the new key (HTTP 401)",
    "demo history: OpenBao was sealed during the set step",
    "demo history: the test login with the new password failed",
)


def _past_runs(rng, now):
    from secrets_admin.inventory.models import Secret
    from secrets_admin.rotation.models import RotationRun

    state = RotationRun.State
    secrets = Secret.objects.filter(rotation_policy__interval_days__isnull=False, missing_since__isnull=True)
    rows = []
    for index, secret in enumerate(secrets.select_related("rotation_policy").order_by("path")[:60]):
        step = max(7, min(secret.rotation_policy.interval_days, 30))
        for back in range(rng.randint(1, step), DAYS, step):
            finished = now - timedelta(days=back, minutes=rng.randint(0, 600))
            # a few secrets' latest run failed, so "failing now" has something to show
            failed = rng.random() < 0.06 or (index in STANDING and back < step)
            rows.append(
                RotationRun(
                    secret=secret,
                    strategy=secret.rotation_policy.strategy,
                    state=(state.FAILED if rng.random() < 0.5 else state.NEEDS_PERSON)
                    if failed
                    else state.FINISHED,
                    step="test" if failed else "done",
                    actor_name=MARK,
                    reason=RotationRun.Reason.SCHEDULE,
                    started_at=finished - timedelta(seconds=rng.randint(5, 90)),
                    finished_at=finished,
                    error=rng.choice(FAILURES) if failed else "",
                    state_data={"demo": True},
                )
            )
    return rows


def _past_grants(rng, now):
    from breakglass.models import AccessRequest, Grant
    from breakglass.models.grant import GrantState
    from breakglass.models.request import Kind, Status

    User = get_user_model()
    requesters = list(User.objects.filter(username__in=("alice", "bob")).order_by("username"))
    if not requesters:
        return []
    made = []
    for i in range(12):
        asked = now - timedelta(days=rng.randint(2, DAYS - 1), hours=rng.randint(0, 20))
        approved = asked + timedelta(minutes=rng.randint(2, 45))
        hours = rng.choice((1, 2, 4))
        who = requesters[i % len(requesters)]
        access = AccessRequest.objects.create(
            kind=Kind.BREAK_GLASS if i % 4 == 0 else Kind.STANDARD,
            requester=who, requester_name=who.username,
            reason=f"{MARK}: investigating a made-up incident #{i + 1}", scope=[],
            duration_seconds=hours * 3600, groups=["security-team"], status=Status.ENDED,
            request_hash="0" * 64, created_at=asked, pending_until=asked + timedelta(hours=4),
            approved_at=approved, decided_at=approved,
        )  # fmt: skip
        ended = approved + timedelta(hours=hours)
        grant = Grant.objects.create(
            request=access, backend="vault", state=GrantState.ENDED, policy_name="demo-history",
            issued_at=approved, expires_at=ended, ended_at=ended, token_gone_at=ended,
            ended_by_name=MARK, end_reason="demo history: expired",
        )  # fmt: skip
        made += [access, grant]
    return made


def seed_history(stdout, *, seed: int = 12) -> None:
    from secrets_admin.rotation.models import RotationRun

    if RotationRun.objects.filter(actor_name=MARK).exists():
        stdout.write("dashboard: demo history already seeded")
        return
    rng = random.Random(seed)
    now = timezone.now()
    with transaction.atomic():
        runs = RotationRun.objects.bulk_create(_past_runs(rng, now))
        for run in runs:  # created_at is set on insert; a past run was created when it started
            RotationRun.objects.filter(pk=run.pk).update(
                created_at=run.started_at, updated_at=run.finished_at
            )
            data = {"demo": True, "state": run.state, "finished_at": run.finished_at.isoformat()}
            record(DEMO_SEEDED, actor=SEEDER, target=run, data=data)
        grants = _past_grants(rng, now)
        for row in grants:
            record(DEMO_SEEDED, actor=SEEDER, target=row, data={"demo": True})
    failed = sum(1 for r in runs if r.state != RotationRun.State.FINISHED)
    changed("demo history")  # bulk rows announce nothing: recompute the stored figures now
    stdout.write(
        f"dashboard: demo history of {len(runs)} past rotation runs ({failed} failed) "
        f"and {len(grants) // 2} past grants over {DAYS} days"
    )
