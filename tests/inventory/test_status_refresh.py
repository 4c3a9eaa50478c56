"""The periodic status recompute: set-based SQL (`refresh_all`) must give exactly what the
per-secret Python rules (`next_due`, `status`) give, for a spread of dates, policies and
problems; it writes only rows that change, is audited, and runs from beat."""

import itertools
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from secrets_admin.audit.models import AuditEntry
from secrets_admin.inventory.models import RotationPolicy, Secret
from secrets_admin.inventory.services import status as rules
from secrets_admin.inventory.services.status import do_refresh_status, flush_search_indexes, refresh_all
from secrets_admin.inventory.services.sync import sync_backend
from secrets_admin.inventory.tasks import refresh_status
from tests.markers import requires_postgres

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


def _policies():
    make = RotationPolicy.objects.create
    return [
        None,
        make(name="t-every-90", kind="api_key", interval_days=90, strategy="blue-green"),
        make(name="t-every-30-lead-7", kind="password", interval_days=30, lead_days=7, strategy="rolling"),
        make(
            name="t-expiry-lead-30", kind="certificate", interval_days=None, lead_days=30, strategy="graceful"
        ),
        make(name="t-interval-0", kind="generic", interval_days=0, lead_days=2, strategy="rolling"),
    ]


def _spread(now):
    """Every combination of policy, creation, rotation, expiry, missing and problem: ~1,400 rows."""
    created = [None, now - 400 * DAY, now - 20 * DAY, now - 3 * DAY + timedelta(microseconds=123457)]
    rotated = [None, now - 95 * DAY, now - 86 * DAY - timedelta(hours=5), now - DAY]
    expires = [None, now - 2 * DAY, now + 5 * DAY, now + 31 * DAY, now + 365 * DAY]
    rows = []
    combos = itertools.product(_policies(), created, rotated, expires, (None, now - DAY), ("", "bad tag"))
    for i, (policy, made, last, expiry, missing, problem) in enumerate(combos):
        rows.append(
            Secret(
                backend="spread",
                path=f"secret/spread/{i}",
                name=str(i),
                rotation_policy=policy,
                created_at=made,
                last_rotated=last,
                expires_at=expiry,
                missing_since=missing,
                problem=problem,
                next_due=now + 1000 * DAY if i % 3 else None,  # stale values to be corrected
                status=("ok", "overdue", "missing")[i % 3],
            )
        )
    Secret.objects.bulk_create(rows)
    return len(rows)


def test_the_sql_and_the_python_rules_agree_on_every_case():
    now = timezone.now()
    count = _spread(now)

    with CaptureQueriesContext(connection) as queries:
        changed = refresh_all(now)

    if connection.vendor == "postgresql":  # one UPDATE joined to the policies
        assert [q["sql"].split()[0] for q in queries] == ["UPDATE"]
    else:  # one read of the policies, one UPDATE per policy and one without, one for every status
        assert len(queries) == 1 + RotationPolicy.objects.count() + 1 + 1
        assert [q["sql"].split()[0] for q in queries[1:]] == ["UPDATE"] * (len(queries) - 1)
    assert changed["status"] > 0 and changed["next_due"] > 0
    checked = 0
    for secret in Secret.objects.filter(backend="spread").select_related("rotation_policy"):
        expected_due = rules.next_due(secret, secret.rotation_policy)
        assert secret.next_due == expected_due, (secret.path, secret.rotation_policy, secret.next_due)
        assert secret.status == rules.status(secret, now), secret.path
        if secret.next_due is not None and secret.created_at is not None:
            assert secret.next_due >= secret.created_at  # never due before it existed
        checked += 1
    assert checked == count
    # every status occurs, so the comparison covered each branch
    statuses = set(Secret.objects.filter(backend="spread").values_list("status", flat=True))
    assert statuses == {"ok", "due_soon", "overdue", "missing", "needs_attention"}


def test_a_second_refresh_writes_nothing():
    now = timezone.now()
    _spread(now)
    refresh_all(now)
    assert refresh_all(now) == {"next_due": 0, "status": 0}


def test_secrets_become_overdue_while_their_backend_is_down(kv_backend, put_kv, settings):
    put_kv("app/key", "x", kind="api_key")
    sync_backend("kvtest", actor="test")
    secret = Secret.objects.get(backend="kvtest")
    assert secret.status == "ok" and secret.next_due is not None
    settings.SECRET_BACKENDS = {
        **settings.SECRET_BACKENDS,
        "kvtest": {**settings.SECRET_BACKENDS["kvtest"], "url": "http://127.0.0.1:9"},
    }
    assert sync_backend("kvtest", actor="test").state == "failed"  # down: the sync changes nothing

    changed = do_refresh_status(actor="beat", now=secret.next_due - 2 * DAY)
    assert Secret.objects.get(pk=secret.pk).status == "due_soon" and changed["status"] == 1
    do_refresh_status(actor="beat", now=secret.next_due + timedelta(seconds=1))
    assert Secret.objects.get(pk=secret.pk).status == "overdue"
    entries = AuditEntry.objects.filter(action="inventory.status.refreshed").order_by("id")
    assert [e.data for e in entries] == [{"next_due": 0, "status": 1}, {"next_due": 0, "status": 1}]


def test_nothing_changed_means_no_audit_entry():
    now = timezone.now()
    _spread(now)
    do_refresh_status(actor="beat", now=now)
    before = AuditEntry.objects.filter(action="inventory.status.refreshed").count()
    assert do_refresh_status(actor="beat", now=now) == {"next_due": 0, "status": 0}
    assert AuditEntry.objects.filter(action="inventory.status.refreshed").count() == before == 1


def test_beat_runs_the_refresh_task():
    entry = next(e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "inventory.refresh_status")
    assert entry["schedule"] <= 900
    Secret.objects.create(
        backend="beat",
        path="secret/x",
        name="x",
        created_at=timezone.now() - 400 * DAY,
        expires_at=timezone.now(),
    )
    assert refresh_status.name == "inventory.refresh_status"
    assert refresh_status() == {"next_due": 1, "status": 1}  # the task body: the service, nothing else
    assert Secret.objects.get(backend="beat").status == "overdue"


def test_the_sql_and_the_python_rules_agree_on_overrides_exemptions_and_renewals():
    """A per-secret override (interval, lead), an exemption and a graceful renewal move the stored
    next_due in the SQL exactly as in Python, and the planner reads the same due date."""
    from secrets_admin.rotation.models import RotationRun
    from secrets_admin.schedule.models import SecretOverride
    from secrets_admin.schedule.planner import Plan

    now = timezone.now()
    _spread(now)
    secrets = list(Secret.objects.filter(backend="spread").order_by("id"))
    variants = [
        {"interval_days": 7},
        {"lead_days": 60},
        {"interval_days": 0, "lead_days": 1},
        {"exempt_until": now + 40 * DAY, "exempt_reason": "freeze"},
        {"exempt_until": now - 3 * DAY, "exempt_reason": "ended"},
        {"interval_days": 400, "exempt_until": now + 2 * DAY, "exempt_reason": "audit"},
    ]
    overrides, renewed = [], []
    for i, secret in enumerate(secrets):
        if i % 4 == 1:
            overrides.append(SecretOverride(secret=secret, **variants[(i // 4) % len(variants)]))
        if i % 5 == 2 and secret.expires_at is not None:
            renewed.append(
                RotationRun(
                    secret=secret,
                    strategy="graceful",
                    state="finished",
                    token=f"t{i}",
                    state_data={"new_not_after": (secret.expires_at + (i % 3) * 40 * DAY).isoformat()},
                )
            )
    SecretOverride.objects.bulk_create(overrides)
    RotationRun.objects.bulk_create(renewed)

    refresh_all(now)
    facts = rules.all_due_facts()
    assert {f.exempt_until is not None for f in facts.values()} == {True, False}
    assert any(f.renewed_until for f in facts.values())
    plan = Plan()
    moved = 0
    for secret in Secret.objects.filter(backend="spread").select_related("rotation_policy"):
        own = facts.get(secret.pk, rules.NO_FACTS)
        expected = rules.next_due(secret, secret.rotation_policy, own)
        assert secret.next_due == expected, (secret.path, own, secret.next_due, expected)
        assert secret.status == rules.status(secret, now), secret.path
        assert plan.due(secret) == secret.next_due, secret.path
        moved += expected != rules.next_due(secret, secret.rotation_policy)
        if own.exempt_until is not None and expected is not None:
            assert expected >= own.exempt_until and (secret.status != "overdue" or own.exempt_until <= now)
    assert moved > 100  # the overrides and renewals really changed due dates
    assert refresh_all(now) == {"next_due": 0, "status": 0}


def _row_versions() -> dict[int, str]:
    """id -> the row version's transaction id (PostgreSQL's xmin): a rewritten row gets a new one."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, xmin::text FROM inventory_secret")
        return dict(cursor.fetchall())


@pytest.mark.django_db(transaction=True)  # each refresh commits, so each gets its own xmin
@requires_postgres
def test_a_day_later_the_refresh_rewrites_only_the_rows_whose_values_change():
    now = timezone.now()
    _spread(now)
    refresh_all(now)
    before = _row_versions()
    expected = {
        secret.pk
        for secret in Secret.objects.filter(backend="spread")
        if rules.status(secret, now + DAY) != secret.status
    }
    assert expected  # the spread has secrets that turn due soon or overdue within a day

    changed = refresh_all(now + DAY)

    after = _row_versions()
    rewritten = {pk for pk, version in after.items() if version != before[pk]}
    assert rewritten == expected and changed == {"next_due": 0, "status": len(expected)}


@requires_postgres
def test_the_beat_merges_the_rows_it_rewrote_into_the_search_indexes():
    """The rewritten rows' GIN entries (search, tags) are merged by the beat itself, not left in
    the pending lists for a search to read or a later writer to merge."""
    now = timezone.now()
    _spread(now)
    assert do_refresh_status(actor="beat", now=now)["status"] > 0
    assert flush_search_indexes() == 0  # nothing left to merge
    Secret.objects.filter(backend="spread").update(problem="rewritten elsewhere")
    assert flush_search_indexes() > 0  # the control: rows rewritten outside the beat do wait
