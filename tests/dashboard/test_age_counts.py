"""The age histogram's counters (dashboard.AgeCount, kept by triggers on inventory_secret) against
a full scan of the secrets, after each kind of change that moves a secret's age: registration, a
rotation finishing (the engine's own service), a sync's bulk writes (kind changed, vanished,
back), deletion; and the beat's rebuild, which repairs counters that drifted."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from secrets_admin.dashboard.models import AgeCount
from secrets_admin.dashboard.services import age_counts, charts
from secrets_admin.inventory.models import Secret
from secrets_admin.rotation.services.outcomes import finished_many
from tests.dashboard import estate

pytestmark = pytest.mark.django_db
EDGES = charts.AGE_EDGES


def _ago(days, hours=0):
    return timezone.now() - timedelta(days=days, hours=hours)


def _both(now=None):
    now = now or timezone.now()
    return age_counts.bucketed(now, EDGES), age_counts.scanned(now, EDGES)


def test_counters_equal_the_full_scan_through_registrations_rotations_syncs_and_deletions():
    # Registrations (one save each, and a sync's bulk insert), over every bucket and the edges' days.
    singles = [estate.secret(f"k/{days}", last_rotated=_ago(days, 1)) for days in (0, 30, 31, 89, 200, 400)]
    estate.secret("p/created", kind="password", created_at=_ago(45))  # never rotated: from creation
    estate.secret("p/discovered", kind="password")  # neither date: from discovery (today)
    Secret.objects.bulk_create(
        [
            Secret(backend="aws", path=f"bulk/{i}", name=f"b{i}", kind="database", last_rotated=_ago(i * 20))
            for i in range(20)
        ]
    )
    counted, scanned = _both()
    assert counted == scanned
    assert counted[("api_key", 0)] == 2 and counted[("api_key", 5)] == 1  # 0 and 30 days; 400 days
    assert sum(counted.values()) == 28

    # A rotation finishing, through the engine's service (the run's secret rotated now).
    run = estate.run(singles[-1], "finished", days_ago=0)
    with transaction.atomic():
        finished_many([run], timezone.now())
    counted, scanned = _both()
    assert counted == scanned and counted[("api_key", 0)] == 3 and ("api_key", 5) not in counted

    # A sync's bulk writes: a kind corrected, a secret vanished, another back.
    bulk = list(Secret.objects.filter(path__in=["bulk/1", "bulk/2", "bulk/3"]).order_by("path"))
    bulk[0].kind = "ssh_key"
    bulk[1].missing_since = timezone.now()
    Secret.objects.bulk_update(bulk[:2], ["kind", "missing_since"])
    assert _both()[0] == _both()[1]
    Secret.objects.filter(pk=bulk[1].pk).update(missing_since=None)
    Secret.objects.filter(pk=bulk[2].pk).update(missing_since=timezone.now(), last_rotated=_ago(3))
    counted, scanned = _both()
    assert counted == scanned and sum(counted.values()) == 27

    # Deletions: one row, and a queryset.
    singles[0].delete()
    Secret.objects.filter(path__startswith="bulk/1").delete()  # bulk/1 and bulk/10..19
    counted, scanned = _both()
    assert counted == scanned and sum(counted.values()) == 27 - 1 - 11

    # The histogram itself reads the counters: same figures as the scan, per kind.
    kinds = {k["kind"]: k["counts"] for k in charts.age_distribution()["kinds"]}
    assert kinds["api_key"] == [scanned.get(("api_key", b), 0) for b in range(len(EDGES) + 1)]


def test_writes_that_leave_the_age_alone_add_no_counter_rows():
    secret = estate.secret("k/1", last_rotated=_ago(10))
    rows = AgeCount.objects.count()
    Secret.objects.update(last_seen=timezone.now(), status="due_soon", problem="checked")
    Secret.objects.bulk_update([secret], ["kind", "missing_since"])  # named but unchanged
    assert AgeCount.objects.count() == rows


def test_the_beat_rebuild_repairs_drift_and_compacts():
    for i in range(3):
        estate.secret(f"k/{i}", last_rotated=_ago(100))
    estate.secret("k/x", last_rotated=_ago(1))
    Secret.objects.filter(path="k/x").update(last_rotated=_ago(2))  # two more rows (-1, +1)
    assert age_counts.rebuild() == 0  # the triggers kept them exact
    assert AgeCount.objects.count() == 2  # one row per (kind, day)
    AgeCount.objects.create(
        kind="api_key", day=_ago(40).date(), n=5
    )  # drift: e.g. a raw load with triggers off
    AgeCount.objects.filter(n__lt=5).update(n=7)
    assert _both()[0] != _both()[1]
    assert age_counts.rebuild() == 3
    assert _both()[0] == _both()[1] == {("api_key", 0): 1, ("api_key", 3): 3}


def test_the_reconcile_task_is_on_the_beat(settings):
    from secrets_admin.dashboard.tasks import reconcile_age_counts

    entry = settings.CELERY_BEAT_SCHEDULE["dashboard-age-reconcile"]
    assert entry == {"task": "dashboard.age_reconcile", "schedule": 900.0}
    estate.secret("k/1", last_rotated=_ago(100))
    AgeCount.objects.all().delete()  # lost counts
    assert reconcile_age_counts.apply().get() == 1
    assert _both()[0] == _both()[1] == {("api_key", 3): 1}
