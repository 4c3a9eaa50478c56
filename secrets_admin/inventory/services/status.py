"""Due dates and status: derived from dates, the rotation policy and sync problems, stored for filtering."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.apps import apps
from django.db import connections, router, transaction
from django.db.models import Case, DateTimeField, ExpressionWrapper, F, Q, Value, When
from django.db.models.functions import Coalesce
from django.db.models.lookups import GreaterThan, LessThan
from django.utils import timezone

from secrets_admin.inventory.models.choices import Status

# How far ahead a due date turns a secret from "ok" to "due soon".
DUE_SOON = timedelta(days=7)


@dataclass(frozen=True)
class DueFacts:
    """What moves one secret's due date besides its policy: the schedule's override (interval,
    lead, exemption) and the rotation engine's renewal of a certificate (the replacement's
    expiry: a renewed certificate is due when its replacement is)."""

    interval_days: int | None = None
    lead_days: int | None = None
    exempt_until: datetime | None = None
    renewed_until: datetime | None = None


NO_FACTS = DueFacts()


def next_due(secret, policy, facts: DueFacts = NO_FACTS):
    """When the secret must next be rotated, or None when nothing says so.

    Interval policies count from the last rotation (or creation); expiry policies (no interval)
    are due `lead_days` before `expires_at` (a renewed certificate's: its replacement's). An
    expiry always bounds the due date, and nothing is due before it existed: a certificate that
    lives shorter than its lead is due when it is made. An override's interval and lead replace
    the policy's; an exemption puts the due date at its end at the earliest."""
    interval = policy.interval_days if policy is not None else None
    lead_days = policy.lead_days if policy is not None else 0
    if facts.interval_days is not None:
        interval = facts.interval_days
    if facts.lead_days is not None:
        lead_days = facts.lead_days
    due = None
    if interval:
        base = secret.last_rotated or secret.created_at
        if base is not None:
            due = base + timedelta(days=interval)
    expiry = secret.expires_at
    if expiry is not None and facts.renewed_until is not None:
        expiry = max(expiry, facts.renewed_until)
    if expiry is not None:
        by_expiry = expiry - timedelta(days=lead_days or 0)
        due = by_expiry if due is None else min(due, by_expiry)
    if due is not None and secret.created_at is not None:
        due = max(due, secret.created_at)
    if due is not None and facts.exempt_until is not None:
        due = max(due, facts.exempt_until)
    return due


def due_facts(secret_ids, *, renewals: bool = True) -> dict[int, DueFacts]:
    """The DueFacts of the given secrets that have any (two small queries; renewals=False skips
    the graceful runs', for a caller that knows there are none). The schedule and the rotation
    engine own these tables; looked up by name so the inventory works without them."""
    ids = [pk for pk in secret_ids if pk is not None]
    found: dict[int, dict] = {}
    if not ids:
        return {}
    if apps.is_installed("secrets_admin.schedule"):
        overrides = apps.get_model("schedule", "SecretOverride").objects.filter(secret_id__in=ids)
        for pk, interval, lead, exempt in overrides.values_list(
            "secret_id", "interval_days", "lead_days", "exempt_until"
        ):
            found[pk] = {"interval_days": interval, "lead_days": lead, "exempt_until": exempt}
    for pk, until in (renewed(ids) if renewals else {}).items():
        found.setdefault(pk, {})["renewed_until"] = until
    return {pk: DueFacts(**values) for pk, values in found.items()}


def renewed(secret_ids) -> dict[int, datetime]:
    """secret id -> the expiry of the certificate that a finished graceful run issued for it."""
    if not apps.is_installed("secrets_admin.rotation"):
        return {}
    runs = apps.get_model("rotation", "RotationRun").objects.filter(
        secret_id__in=secret_ids, strategy="graceful", state="finished"
    )
    until: dict[int, datetime] = {}
    for pk, state in runs.values_list("secret_id", "state_data"):
        value = (state or {}).get("new_not_after")
        if value:
            moment = datetime.fromisoformat(value)
            until[pk] = max(until.get(pk, moment), moment)
    return until


def status(secret, now=None) -> str:
    """missing > needs attention > overdue > due soon > ok."""
    now = now or timezone.now()
    if secret.missing_since is not None:
        return Status.MISSING
    if secret.problem:
        return Status.NEEDS_ATTENTION
    if secret.next_due is not None:
        if secret.next_due <= now:
            return Status.OVERDUE
        if secret.next_due <= now + DUE_SOON:
            return Status.DUE_SOON
    return Status.OK


def refresh(secret, policy=None, now=None, facts: DueFacts | None = None) -> bool:
    """Recompute `next_due` and `status` in place (policy and facts passed to avoid queries;
    facts=None looks them up). True if changed."""
    if policy is None and secret.rotation_policy_id is not None:
        policy = secret.rotation_policy
    if facts is None:
        facts = due_facts([secret.pk]).get(secret.pk, NO_FACTS) if secret.pk else NO_FACTS
    before = (secret.next_due, secret.status)
    secret.next_due = next_due(secret, policy, facts)
    secret.status = status(secret, now)
    return (secret.next_due, secret.status) != before


# -- the same rules for every secret at once, in SQL -------------------------------------------
# `next_due()` and `status()` above decide for one secret in memory (sync, edit, register);
# `refresh_all()` applies the same rules to the whole table in a few UPDATE statements, so a
# status stays true while a backend is down and no sync runs. tests/inventory/test_status_refresh.py
# runs both over a spread of cases and requires identical answers: change them together.


def _due_expression(policy):
    """SQL for `next_due(secret, policy)`, `policy` being fixed for the rows it is applied to."""
    interval = policy.interval_days if policy is not None else None
    lead = timedelta(days=policy.lead_days if policy is not None else 0)
    by_expiry = ExpressionWrapper(F("expires_at") - Value(lead), output_field=DateTimeField())
    if interval:
        by_interval = ExpressionWrapper(
            Coalesce("last_rotated", "created_at") + Value(timedelta(days=interval)),
            output_field=DateTimeField(),
        )
        due = Case(
            When(expires_at__isnull=True, then=by_interval),
            When(Q(last_rotated__isnull=True, created_at__isnull=True), then=by_expiry),
            When(LessThan(by_expiry, by_interval), then=by_expiry),
            default=by_interval,
            output_field=DateTimeField(),
        )
    else:
        due = by_expiry  # NULL without an expiry
    # Nothing is due before it existed (a NULL on either side compares as unknown: keep `due`).
    return Case(When(GreaterThan(F("created_at"), due), then=F("created_at")), default=due)


def _status_expression(now):
    return Case(
        When(missing_since__isnull=False, then=Value(Status.MISSING)),
        When(~Q(problem=""), then=Value(Status.NEEDS_ATTENTION)),
        When(next_due__lte=now, then=Value(Status.OVERDUE)),
        When(next_due__lte=now + DUE_SOON, then=Value(Status.DUE_SOON)),
        default=Value(Status.OK),
    )


def _differs(column: str, computed: str) -> Q:
    """`column IS DISTINCT FROM computed`, spelt so that both PostgreSQL and SQLite use it."""
    return (
        Q(**{f"{column}__lt": F(computed)})
        | Q(**{f"{column}__gt": F(computed)})
        | Q(**{f"{column}__isnull": True, f"{computed}__isnull": False})
        | Q(**{f"{column}__isnull": False, f"{computed}__isnull": True})
    )


def refresh_all(now=None, *, ids=None) -> dict:
    """Recompute `next_due` and `status` of every secret (or of those whose id is in `ids`) in
    SQL, writing only rows that change.
    PostgreSQL: one UPDATE joined to the policies, overrides and renewals. Elsewhere: one UPDATE
    per rotation policy (a handful) plus one for secrets without a policy, for the secrets
    without DueFacts; the few with an override or a renewal one by one; then one for every
    status. Returns {"next_due": rows changed, "status": rows changed}. Runs in the caller's
    transaction (or autocommit)."""
    from secrets_admin.inventory.models import RotationPolicy, Secret

    now = now or timezone.now()
    database = connections[router.db_for_write(Secret)]  # where the ORM statements would go
    if database.vendor == "postgresql":
        return _refresh_all_postgresql(database, now, ids)
    secrets = Secret.objects.all() if ids is None else Secret.objects.filter(pk__in=list(ids))
    policies = {p.pk: p for p in RotationPolicy.objects.all()}
    special = _ids_with_facts()
    groups = [(Q(rotation_policy=p), p) for p in policies.values()]
    groups.append((Q(rotation_policy__isnull=True), None))
    due_changed = 0
    for where, policy in groups:
        due = _due_expression(policy)
        rows = secrets.filter(where).exclude(pk__in=special).alias(due=due)
        due_changed += rows.filter(_differs("next_due", "due")).update(next_due=due)
    facts = due_facts(special)
    for secret in secrets.filter(pk__in=special):
        before = secret.next_due
        secret.next_due = next_due(
            secret, policies.get(secret.rotation_policy_id), facts.get(secret.pk, NO_FACTS)
        )
        if secret.next_due != before:
            secret.save(update_fields=["next_due"])
            due_changed += 1
    status = _status_expression(now)
    status_changed = secrets.alias(new=status).exclude(status=F("new")).update(status=status)
    return {"next_due": due_changed, "status": status_changed}


def all_due_facts() -> dict[int, DueFacts]:
    """Every secret's DueFacts (few secrets have any), for recomputing many at once."""
    return due_facts(_ids_with_facts())


def _ids_with_facts() -> list[int]:
    ids = set()
    if apps.is_installed("secrets_admin.schedule"):
        ids |= set(apps.get_model("schedule", "SecretOverride").objects.values_list("secret_id", flat=True))
    if apps.is_installed("secrets_admin.rotation"):
        runs = apps.get_model("rotation", "RotationRun").objects.filter(strategy="graceful", state="finished")
        ids |= set(runs.values_list("secret_id", flat=True))
    return sorted(ids)


# PostgreSQL: the same rules as one UPDATE joined to the policies, the schedule's overrides and
# the graceful runs' renewals (small tables: hash joins), one pass over the table (the
# per-policy statements above read it once per policy). RETURNING says what changed.
# Each step is its own derived table ending in OFFSET 0, a fence the planner does not flatten:
# without it, every reference to `due` is replaced by the whole expression it came from, nested
# five deep, and the filter evaluated the date arithmetic hundreds of times per row (1.4 s of CPU
# at 100k secrets instead of a few tens of milliseconds). Only rows whose values differ are
# written: every written row costs a new version in each of the table's indexes.
REFRESH_SQL = """
UPDATE inventory_secret AS s
SET next_due = c.due, status = c.status
FROM (
    SELECT d.id, d.due, d.old_due, d.old_status,
        CASE WHEN d.missing_since IS NOT NULL THEN %(missing)s
             WHEN d.problem <> '' THEN %(attention)s
             WHEN d.due <= %(now)s THEN %(overdue)s
             WHEN d.due <= %(soon)s THEN %(due_soon)s
             ELSE %(ok)s END AS status
    FROM (
        SELECT c2.id, c2.missing_since, c2.problem, c2.old_due, c2.old_status,
            CASE WHEN c2.exempt_until > c2.clamped THEN c2.exempt_until ELSE c2.clamped END AS due
        FROM (
            SELECT b.id, b.missing_since, b.problem, b.old_due, b.old_status, b.exempt_until,
                CASE WHEN b.raw_due < b.created_at THEN b.created_at ELSE b.raw_due END AS clamped
            FROM (
                SELECT i.id, i.missing_since, i.problem, i.created_at, i.exempt_until,
                    i.old_due, i.old_status,
                    CASE WHEN i.by_expiry IS NULL THEN i.by_interval
                         WHEN i.by_interval IS NULL THEN i.by_expiry
                         ELSE LEAST(i.by_interval, i.by_expiry) END AS raw_due
                FROM (
                    SELECT t.id, t.missing_since, t.problem, t.created_at, o.exempt_until,
                        t.next_due AS old_due, t.status AS old_status,
                        CASE WHEN COALESCE(o.interval_days, p.interval_days) > 0
                            THEN COALESCE(t.last_rotated, t.created_at)
                                 + make_interval(days => COALESCE(o.interval_days, p.interval_days))
                        END AS by_interval,
                        CASE WHEN r.renewed_until > t.expires_at THEN r.renewed_until
                             ELSE t.expires_at END
                            - make_interval(days => COALESCE(o.lead_days, p.lead_days, 0)) AS by_expiry
                    FROM inventory_secret AS t
                    LEFT JOIN inventory_rotationpolicy AS p ON p.id = t.rotation_policy_id
                    LEFT JOIN %(overrides)s AS o ON o.secret_id = t.id
                    LEFT JOIN %(renewals)s AS r ON r.secret_id = t.id
                    %(only)s
                    OFFSET 0
                ) AS i OFFSET 0
            ) AS b OFFSET 0
        ) AS c2 OFFSET 0
    ) AS d OFFSET 0
) AS c
WHERE s.id = c.id AND (c.old_due IS DISTINCT FROM c.due OR c.old_status <> c.status)
RETURNING c.old_due IS DISTINCT FROM c.due, c.old_status <> c.status
"""
# Without the schedule or the rotation engine installed, their joins are empty row sets.
OVERRIDES_SQL = "schedule_secretoverride"
NO_OVERRIDES = """(SELECT NULL::bigint AS secret_id, NULL::int AS interval_days, NULL::int AS lead_days,
    NULL::timestamptz AS exempt_until WHERE false)"""
RENEWALS_SQL = """(SELECT secret_id, MAX((state_data->>'new_not_after')::timestamptz) AS renewed_until
    FROM rotation_rotationrun WHERE strategy = 'graceful' AND state = 'finished' GROUP BY secret_id)"""
NO_RENEWALS = "(SELECT NULL::bigint AS secret_id, NULL::timestamptz AS renewed_until WHERE false)"


def _refresh_all_postgresql(database, now, ids=None) -> dict:
    params = {
        "ids": None if ids is None else list(ids),
        "now": now,
        "soon": now + DUE_SOON,
        "missing": Status.MISSING.value,
        "attention": Status.NEEDS_ATTENTION.value,
        "overdue": Status.OVERDUE.value,
        "due_soon": Status.DUE_SOON.value,
        "ok": Status.OK.value,
    }
    sql = REFRESH_SQL.replace(
        "%(overrides)s", OVERRIDES_SQL if apps.is_installed("secrets_admin.schedule") else NO_OVERRIDES
    ).replace("%(renewals)s", RENEWALS_SQL if apps.is_installed("secrets_admin.rotation") else NO_RENEWALS)
    sql = sql.replace("%(only)s", "" if ids is None else "WHERE t.id = ANY(%(ids)s)")
    with database.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return {"next_due": sum(1 for due, _ in rows if due), "status": sum(1 for _, st in rows if st)}


# The table's GIN indexes (migrations 0005-0007). A rewritten row's entries wait in each one's
# pending list (fastupdate); see flush_search_indexes.
GIN_INDEXES = ("secret_search_trgm", "secret_search_grams", "secret_tags_gin")


def flush_search_indexes() -> int:
    """Merge the GIN indexes' pending lists into the indexes now (PostgreSQL; a no-op elsewhere).
    The status recompute rewrites many rows at once; merged here, in the beat, the entries cost
    a sorted batch, searches never read a long unsorted list, and no page request or sync that
    happens to cross gin_pending_list_limit pays for merging 4 MB of them. Returns the pending
    pages merged."""
    from secrets_admin.inventory.models import Secret

    database = connections[router.db_for_write(Secret)]
    if database.vendor != "postgresql":
        return 0
    with database.cursor() as cursor:
        cursor.execute(
            "SELECT COALESCE(SUM(gin_clean_pending_list(to_regclass(name))), 0)::int "
            "FROM unnest(%s::text[]) AS name WHERE to_regclass(name) IS NOT NULL",
            [list(GIN_INDEXES)],
        )
        return cursor.fetchone()[0]


def do_refresh_status(*, actor, now=None) -> dict:
    """The periodic recompute (beat `inventory.refresh_status`): `refresh_all` in one short
    transaction, audited with its counts when anything changed (nothing is written otherwise);
    then, after the commit, the rewritten rows' search and tag index entries are merged."""
    from secrets_admin.audit.services import record
    from secrets_admin.inventory import actions

    with transaction.atomic():
        changed = refresh_all(now)
        if changed["next_due"] or changed["status"]:
            record(actions.STATUS_REFRESHED, actor=actor, data=changed)
    if changed["next_due"] or changed["status"]:
        flush_search_indexes()
    return changed
