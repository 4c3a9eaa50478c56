"""Read history for `make run`: real reads through OpenBao by three demo services (the audit
reader counts them within seconds), and 100 days of older history as rollup rows marked demo.

Idempotent: demo rows are written once, and again only when the newest is a day old (so the
demo's spike stays in the spike window). A few secrets are left unread: the candidates to retire.
Values read are discarded at once; nothing of them is printed or kept.
"""

import random
from collections import Counter
from datetime import timedelta

from django.utils import timezone

from secrets_admin.backends import BackendError, backends_of_kind, get_backend
from secrets_admin.inventory.models import Secret
from secrets_admin.usage.models import DailyAccess, HourlyAccess
from secrets_admin.usage.services import ingest

SERVICES = {
    "payments": "payments-api",
    "identity": "identity-svc",
    "platform": "ci-deploy",
    "data": "airflow",
}
READER_POLICY = "candlefish-demo-reader"
DAYS = 100
UNREAD = 4  # the last few KV secrets by path are never read: stale after 90 days of history


def seed_usage(stdout) -> None:
    secrets = list(
        Secret.objects.filter(backend__in=ingest.vault_backends(), path__startswith="secret/")
        .exclude(status="missing")
        .order_by("path")
        .values_list("id", "path", "owner_team")[:200]
    )
    if not secrets:
        stdout.write("access patterns: no KV secrets in the inventory; no read history seeded")
        return
    read = secrets[:-UNREAD] if len(secrets) > UNREAD else secrets
    # The history pretends the console has known these secrets for DAYS days (the demo estate was
    # created minutes ago); the sync never changes discovered_at, so this stays.
    known = timezone.now() - timedelta(days=DAYS)
    Secret.objects.filter(pk__in=[pk for pk, _, _ in secrets], discovered_at__gt=known).update(
        discovered_at=known
    )
    stdout.write(f"access patterns: {_seed_history(read)}; {_real_reads(read)}")


def _seed_history(secrets) -> str:
    now = timezone.now()
    newest = HourlyAccess.objects.filter(demo=True).order_by("-hour").values_list("hour", flat=True).first()
    if newest is not None and newest > now - timedelta(days=1):
        return "demo read history already there"
    HourlyAccess.objects.filter(demo=True).delete()
    DailyAccess.objects.filter(demo=True).delete()
    rng = random.Random(12)  # the same history on every machine
    this_hour = ingest.hour_of(now)
    counts: Counter = Counter()
    last_reads = {}
    for index, (_, path, team) in enumerate(secrets):
        identity = SERVICES.get(team, "batch-jobs")
        usual = 1 + index % 5
        for hours_ago in range(1, DAYS * 24):
            hour = this_hour - timedelta(hours=hours_ago)
            if hour.weekday() >= 5 or not 7 <= hour.hour <= 19:  # services read in working hours
                continue
            n = max(0, int(rng.gauss(usual, usual / 2)))
            if n:
                counts[(hour, path, identity, "", "read")] += n
                last_reads.setdefault(path, hour)
    if secrets:  # one burst in the last hours: the spike the dashboard highlights
        _, path, team = secrets[len(secrets) // 2]
        counts[(this_hour - timedelta(hours=2), path, "unknown-laptop", "", "read")] += 120
    ingest.add_counts(counts, demo=True)
    ingest.note_last_reads(last_reads)
    return f"{sum(counts.values())} demo reads over {DAYS} days in {len(counts)} hourly rows"


def _real_reads(secrets) -> str:
    """A handful of real reads with service tokens, so the live rollup has OpenBao's own lines."""
    if not backends_of_kind("vault"):
        return "no OpenBao to read from"
    vault = get_backend("vault")
    mount = vault.mounts["kv"]
    try:
        with vault.errors("demo reads"):
            vault.client.sys.create_or_update_policy(
                READER_POLICY, f'path "{mount}/data/*" {{ capabilities = ["read"] }}'
            )
            made = 0
            for team, service in SERVICES.items():
                token = vault.client.auth.token.create(
                    policies=[READER_POLICY], display_name=service, ttl="10m", renewable=False
                )["auth"]["client_token"]
                reader = type(vault.client)(url=vault.client.url, token=token)
                mine = [path for _, path, owner in secrets if owner == team][:3]
                for path in mine:
                    for _ in range(3):
                        reader.secrets.kv.v2.read_secret_version(
                            path=path.removeprefix(f"{mount}/"),
                            mount_point=mount,
                            raise_on_deleted_version=True,
                        )
                        made += 1
                reader.auth.token.revoke_self()
    except BackendError as exc:
        return f"real reads skipped: {exc}"
    return f"{made} real reads through OpenBao by {len(SERVICES)} demo services"
