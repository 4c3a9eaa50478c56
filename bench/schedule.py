"""Benchmark: the planner's due_secrets(now) at 10,000 secrets on PostgreSQL, against the plain
query the rotation beat would otherwise run (`Secret.objects.filter(next_due__lte=now)`), timed
in alternation (A/B/A/B) in one run, twice: choosing the ids (what the planner adds) and
loading the full rows (what the beat then reads). Also the 30-day calendar.

    .venv/bin/python bench/schedule.py          (or: make bench)

Database: BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/candlefish_bench_schedule,
created when missing and migrated; the inventory and schedule tables are emptied at the start.
The estate: 10,000 secrets over the four default policies, 60% of them due; windows on three
policies (one open at `now`, one across midnight in Europe/Berlin, one whole day in
America/New_York); 300 overrides (interval, strategy, window, exemption) and 500 links.

Goals: choosing the ids, due_secrets p95 <= 500 ms ("well under a second", on a shared 2-core
VM); with full rows, due_secrets p95 <= 1.5x the plain query's (it returns fewer rows: windows,
exemptions, links); the answer is right (no exempt, missing, out-of-window secret; no two
linked secrets together).
Last line: RESULT {json}.
"""

import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.support import stack  # noqa: E402

URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/candlefish_bench_schedule")
SECRETS = int(os.environ.get("BENCH_SECRETS", "10000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "30"))
GOALS = {"due_ids_p95_ms": 500, "rows_due_vs_plain_p95": 1.5}
NOW = datetime(2026, 1, 14, 12, 0, tzinfo=UTC)  # a Wednesday, 13:00 in Berlin


def build_estate() -> dict:
    from secrets_admin.inventory.models import RotationPolicy, Secret
    from secrets_admin.schedule.models import PolicySettings, SecretLink, SecretOverride

    SecretLink.objects.all().delete()
    SecretOverride.objects.all().delete()
    PolicySettings.objects.all().delete()
    Secret.objects.all().delete()
    policies = list(RotationPolicy.objects.filter(is_default=True).order_by("kind"))
    windows = {
        "api_key": ([0, 1, 2, 3, 4], clock(9), clock(17), "Europe/Berlin"),  # open at NOW
        "password": ([0, 1, 2, 3, 4], clock(22), clock(2), "Europe/Berlin"),  # closed at NOW
        "database": ([2], clock(0), clock(0), "America/New_York"),  # all Wednesday: open
    }
    for policy in policies:
        if policy.kind in windows:
            days, start, end, tz = windows[policy.kind]
            PolicySettings.objects.create(
                policy=policy, window_days=days, window_start=start, window_end=end, window_tz=tz
            )
    secrets = []
    for i in range(SECRETS):
        policy = policies[i % len(policies)]
        due = NOW - timedelta(hours=1 + i % 500) if i % 10 < 6 else NOW + timedelta(days=1 + i % 60)
        secrets.append(
            Secret(
                backend="vault",
                path=f"bench/schedule/{i:05d}",
                name=f"s{i}",
                kind=policy.kind,
                rotation_policy=policy,
                next_due=due,
                missing_since=NOW - timedelta(days=1) if i % 97 == 0 else None,
            )
        )
    Secret.objects.bulk_create(secrets, batch_size=2000)
    ids = list(Secret.objects.order_by("id").values_list("id", flat=True))
    overrides = []
    for n, pk in enumerate(ids[7::33][:300]):
        kind = n % 4
        overrides.append(
            SecretOverride(
                secret_id=pk,
                interval_days=7 if kind == 0 else None,
                strategy="rolling" if kind == 1 else "",
                window_days=[2] if kind == 2 else [],
                window_start=clock(11) if kind == 2 else None,
                window_end=clock(13) if kind == 2 else None,
                exempt_until=NOW + timedelta(days=5) if kind == 3 else None,
                exempt_reason="bench freeze" if kind == 3 else "",
            )
        )
    SecretOverride.objects.bulk_create(overrides)
    links = [
        SecretLink(first_id=ids[i], second_id=ids[i + 4], reason="bench pair") for i in range(0, 2000, 4)
    ]
    SecretLink.objects.bulk_create(links)
    return {"secrets": len(ids), "overrides": len(overrides), "links": len(links)}


def check_answer(chosen: list) -> dict:
    """The answer is right: every chosen secret is due, in its window, not exempt, not missing,
    and no two chosen secrets are linked."""
    from secrets_admin.schedule.models import SecretLink
    from secrets_admin.schedule.planner import Plan

    plan = Plan()
    problems = 0
    ids = {s.pk for s in chosen}
    for secret in chosen:
        effective = plan.effective(secret)
        due = plan.due(secret, effective)
        in_window = effective.window is None or effective.window.contains(NOW)
        if secret.missing_since or due is None or due > NOW or not in_window or effective.exempt_at(NOW):
            problems += 1
    together = sum(
        1 for a, b in SecretLink.objects.values_list("first_id", "second_id") if a in ids and b in ids
    )
    return {"chosen": len(chosen), "problems": problems, "linked_together": together}


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    stack.ensure_database(URL)
    stack.setup_django({"DATABASE_URL": URL, "DEBUG": "false"})
    from django.db import reset_queries

    from secrets_admin.inventory.models import Secret
    from secrets_admin.schedule import calendar
    from secrets_admin.schedule.planner import due_secrets

    estate = build_estate()

    work = {
        "plain_ids": lambda: list(Secret.objects.filter(next_due__lte=NOW).values_list("pk", flat=True)),
        "due_ids": lambda: list(due_secrets(NOW).values_list("pk", flat=True)),
        "plain_rows": lambda: list(Secret.objects.filter(next_due__lte=NOW)),
        "due_rows": lambda: list(due_secrets(NOW)),
    }
    timings = {name: [] for name in work}
    for _ in range(3):  # warm the caches of both
        for call in work.values():
            call()
    for _ in range(ROUNDS):
        for name, call in work.items():
            started = time.perf_counter()
            call()
            timings[name].append((time.perf_counter() - started) * 1000)
            reset_queries()
    started = time.perf_counter()
    cal = calendar.build(NOW)
    calendar_ms = (time.perf_counter() - started) * 1000
    answer = check_answer(work["due_rows"]())
    stats = {
        name: {"p50_ms": round(statistics.median(v), 1), "p95_ms": round(percentile(v, 0.95), 1)}
        for name, v in timings.items()
    }
    ratio = stats["due_rows"]["p95_ms"] / stats["plain_rows"]["p95_ms"]
    result = {
        "estate": estate,
        "rounds": ROUNDS,
        "load_average": stack.load_average(1),  # the VM is shared: say how busy
        **stats,
        "rows_due_vs_plain_p95": round(ratio, 2),
        "plain_count": len(work["plain_ids"]()),
        **answer,
        "calendar_ms": round(calendar_ms, 1),
        "calendar_planned": cal.planned,
        "calendar_collisions": cal.collisions,
        "goals": GOALS,
        "pass": {
            "due_ids_p95_ms": stats["due_ids"]["p95_ms"] <= GOALS["due_ids_p95_ms"],
            "rows_due_vs_plain_p95": ratio <= GOALS["rows_due_vs_plain_p95"],
            "answer_right": answer["problems"] == 0 and answer["linked_together"] == 0,
        },
    }
    print("RESULT " + json.dumps(result, separators=(",", ":")))


if __name__ == "__main__":
    main()
