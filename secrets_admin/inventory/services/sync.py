"""Sync: reconcile one backend's secrets into the inventory. Idempotent; reads metadata only.

`sync_backend(name, *, actor)` walks the backend in chunks, each chunk applied in its own
transaction with batched queries (one SELECT of the chunk's rows and their versions, bulk
inserts and updates), so progress is visible live and a backend that dies half-way leaves every
stored row as it was. Secrets not seen in a complete walk are marked missing (never deleted).
A row whose `remote_digest` matches the backend's answer is not loaded or compared (only its
status is recomputed, in SQL): an unchanged estate costs the reads and little more.
"""

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from console import live
from secrets_admin.audit.services import record
from secrets_admin.backends import get_backend
from secrets_admin.backends.base import BackendError, ListingProblem, RemoteSecret
from secrets_admin.dashboard import live as dashboard_live
from secrets_admin.inventory import actions
from secrets_admin.inventory.models import RotationPolicy, Secret, SecretVersion, SyncRun
from secrets_admin.inventory.models.choices import Status, VersionState
from secrets_admin.inventory.services import status as status_service
from secrets_admin.inventory.services.remote import aware, digest, remote_fields
from secrets_admin.inventory.services.sync_guard import Heartbeat, RunAbandoned, read_ahead, start_run

log = logging.getLogger(__name__)

TOPIC = "inventory.sync"
CHUNK = 500
# Columns a sync may change; everything the list and detail pages show about the backend side.
TRACKED = (
    "name",
    "kind",
    "environment",
    "owner_team",
    "purpose",
    "tags",
    "created_at",
    "remote_updated_at",
    "last_rotated",
    "last_accessed",
    "expires_at",
    "rotation",
    "details",
    "problem",
)
# Written without counting as a change: the backend's own clocks, and the digest (stored anew
# once for every row synced before it existed).
QUIET = {"remote_updated_at", "last_accessed", "remote_digest"}
UPDATE_BATCH = 100
LAST_SEEN_EVERY = timedelta(hours=1)  # how stale `last_seen` may get before a sync writes it anew


def sync_backend(name: str, *, actor) -> SyncRun:
    """Sync one named backend and return its finished SyncRun.

    state succeeded: everything synced; partial: some secrets had problems (run.errors names
    them) and the rest synced; failed: the walk could not run or stopped (run.error says why) —
    nothing already stored is changed by the part that did not run, and nothing is marked missing.
    Raises only for bugs (after recording the run as failed).
    """
    run = start_run(name, actor)
    started = {**run.progress(), "event": "started"}
    transaction.on_commit(lambda: _publish(started))  # pages list the new run at once
    if run.state != SyncRun.State.RUNNING:
        return run
    ctx = _Context(name, actor, run)
    heartbeat = Heartbeat(run)
    try:
        failure = None
        buffer = []
        items = read_ahead(get_backend(name).iter_secrets(), depth=CHUNK * 2)
        while True:
            try:
                item = next(items)
            except StopIteration:
                break
            except BackendError as exc:
                failure = exc
                break
            heartbeat.beat()
            buffer.append(item)
            if len(buffer) >= CHUNK:
                _apply_chunk(ctx, buffer)
                buffer = []
        if buffer:
            _apply_chunk(ctx, buffer)
        if failure is not None:
            raise failure
        with transaction.atomic():
            _mark_vanished(ctx)
            _finish(ctx, SyncRun.State.PARTIAL if run.error_count else SyncRun.State.SUCCEEDED)
    except RunAbandoned:
        log.warning("inventory sync run %s of %s was marked abandoned meanwhile; stopped", run.pk, name)
        run.refresh_from_db()
    except BackendError as exc:
        log.warning("inventory sync of %s failed: %s", name, exc)
        _finish_quietly(ctx, SyncRun.State.FAILED, str(exc))
    except Exception as exc:
        log.exception("inventory sync of %s crashed", name)
        _finish_quietly(
            ctx, SyncRun.State.FAILED, f"internal error ({type(exc).__name__}); see the worker log"
        )
        raise
    return run


class _Context:
    def __init__(self, name, actor, run):
        self.name, self.actor, self.run = name, actor, run
        policies = list(RotationPolicy.objects.all())
        self.policy_by_id = {p.pk: p for p in policies}
        self.default_policy = {p.kind: p for p in policies if p.is_default}
        self.new_versions: list[SecretVersion] = []
        self.dirty: set[str] = set()  # columns some row of the current chunk changed
        self.seen: set[int] = set()  # ids of stored secrets this walk found (or could not see into)
        self.updated_versions: list[SecretVersion] = []
        self.facts: dict = {}  # the current chunk's overrides and renewals (status.due_facts)


def _apply_chunk(ctx: _Context, items: list) -> None:
    run, now = ctx.run, timezone.now()
    remotes: dict[str, RemoteSecret] = {}
    problems: list[ListingProblem] = []
    for item in items:
        if isinstance(item, ListingProblem):
            problems.append(item)
        else:
            remotes[item.path] = item
    digests = {path: digest(remote) for path, remote in remotes.items()}
    with transaction.atomic():
        quiet, existing = _stored(ctx, remotes, digests, problems)
        ctx.facts = status_service.due_facts([s.pk for s in existing.values()])
        known_versions = {}
        for v in SecretVersion.objects.filter(secret__in=[s.pk for s in existing.values()]):
            known_versions.setdefault(v.secret_id, {})[v.version_id] = v
        new, changed, seen_ids = [], [], []
        for path, remote in remotes.items():
            if path in quiet:  # the backend says what it said when this row was written
                pk, _last_seen, problem = quiet[path]
                seen_ids.append(pk)
                if problem:
                    run.log(path, problem)
                continue
            try:
                fields = remote_fields(remote)
            except Exception as exc:  # one malformed answer must not stop the run
                run.log(path, f"could not read what the backend returned: {type(exc).__name__}")
                if path in existing:
                    seen_ids.append(existing[path].pk)
                continue
            secret = existing.get(path)
            if secret is None:
                secret = Secret(backend=ctx.name, path=path, last_seen=now, source="sync", **fields)
                secret.remote_digest = digests[path]
                secret.rotation_policy = ctx.default_policy.get(secret.kind)
                status_service.refresh(secret, secret.rotation_policy, now, status_service.NO_FACTS)
                secret._remote_versions = remote.versions
                new.append(secret)
                continue
            seen_ids.append(secret.pk)
            differs, counted = _assign(secret, {**fields, "remote_digest": digests[path]}, ctx.dirty)
            if secret.missing_since is not None:
                secret.missing_since, differs, counted = None, True, True
                ctx.dirty.add("missing_since")
            versions_differ = _reconcile_versions(
                secret, remote.versions, known_versions.get(secret.pk, {}), ctx
            )
            policy = ctx.policy_by_id.get(secret.rotation_policy_id)
            if status_service.refresh(secret, policy, now, ctx.facts.get(secret.pk, status_service.NO_FACTS)):
                ctx.dirty.update(("next_due", "status"))
                differs = True
            if differs:
                changed.append(secret)
            if counted or versions_differ:
                run.changed += 1
            if fields["problem"]:
                run.log(path, fields["problem"])
        for problem in problems:
            _record_problem(ctx, problem, existing.get(problem.path), changed, seen_ids, now)
        if new:
            Secret.objects.bulk_create(new, batch_size=CHUNK)
            for secret in new:
                _reconcile_versions(secret, secret._remote_versions, {}, ctx)
                record(
                    actions.SECRET_DISCOVERED,
                    actor=ctx.actor,
                    target=secret,
                    data={"backend": ctx.name, "path": secret.path, "kind": secret.kind, "run": run.pk},
                )
                if secret.problem:
                    run.log(secret.path, secret.problem)
        if changed:
            # Only the columns that changed, in small batches: bulk_update's CASE per column per
            # row grows with both, and an all-columns, 500-row statement cost seconds.
            Secret.objects.bulk_update(changed, sorted(ctx.dirty), batch_size=UPDATE_BATCH)
        ctx.dirty = set()
        _flush_versions(ctx)
        if quiet:  # their dates and policy are as stored: only the clock can move their status
            status_service.refresh_all(now, ids=[pk for pk, _, _ in quiet.values()])
        ctx.seen.update(seen_ids)
        ctx.seen.update(secret.pk for secret in new)
        # An unchanged estate writes nothing: last_seen moves once per LAST_SEEN_EVERY, not per run
        # (vanished secrets are found from ctx.seen, not from last_seen).
        old = now - LAST_SEEN_EVERY
        last_seen = [(s.pk, s.last_seen) for s in existing.values()]
        last_seen += [(pk, at) for pk, at, _ in quiet.values()]
        stale = [pk for pk, at in last_seen if pk in ctx.seen and (at is None or at < old)]
        if stale:
            Secret.objects.filter(pk__in=stale).update(last_seen=now)
        run.seen += len(remotes)
        run.created += len(new)
        if not run.save_progress():
            raise RunAbandoned(run.pk)  # rolls this chunk back: another start owns the backend now
        progress = {**run.progress(), "event": "progress"}
        transaction.on_commit(lambda: _publish(progress))


def _stored(ctx, remotes: dict, digests: dict, problems: list) -> tuple[dict, dict]:
    """The chunk's stored rows, in two parts. `quiet`: path -> (id, last_seen, problem) of rows
    whose stored digest is the backend's answer now (nothing to build or compare: one narrow
    query). `existing`: path -> Secret of the others (changed, missing, never digested, or
    named by a listing problem), loaded in full."""
    paths = list(remotes) + [p.path for p in problems]
    rows = Secret.objects.filter(backend=ctx.name, path__in=paths).values_list(
        "pk", "path", "remote_digest", "missing_since", "last_seen", "problem"
    )
    quiet, full = {}, []
    for pk, path, stored, missing_since, last_seen, problem in rows:
        if stored and missing_since is None and stored == digests.get(path):
            quiet[path] = (pk, last_seen, problem)
        else:
            full.append(pk)
    existing = {s.path: s for s in Secret.objects.filter(pk__in=full)} if full else {}
    return quiet, existing


def _record_problem(ctx, problem: ListingProblem, secret, changed, seen_ids, now) -> None:
    """A per-item failure: note it on the run, flag the secret if we know it, and keep every
    stored secret under that path from being marked missing (the walk could not see them)."""
    message = str(problem.error)
    ctx.run.log(problem.path, message)
    prefix = problem.path.rstrip("/") + "/"
    ctx.seen.update(
        Secret.objects.filter(backend=ctx.name, path__startswith=prefix).values_list("pk", flat=True)
    )
    if secret is not None:
        seen_ids.append(secret.pk)
        if secret.problem != message and secret.missing_since is None:
            secret.problem = message[:2000]
            secret.remote_digest = ""  # the row no longer says what the backend said
            policy = ctx.policy_by_id.get(secret.rotation_policy_id)
            status_service.refresh(secret, policy, now, ctx.facts.get(secret.pk, status_service.NO_FACTS))
            ctx.dirty.update(("problem", "next_due", "status", "remote_digest"))
            if secret not in changed:
                changed.append(secret)


def _assign(secret, fields: dict, dirty: set) -> tuple[bool, bool]:
    """Copy fields onto the row. Returns (anything differs, a change worth counting): the
    backend's own updated time moves with our own metadata writes, so alone it is saved quietly."""
    differs = counted = False
    for key, value in fields.items():
        if getattr(secret, key) != value:
            setattr(secret, key, value)
            dirty.add(key)
            differs = True
            counted = counted or key not in QUIET
    return differs, counted


def _version_state(v) -> str:
    if v.destroyed:
        return VersionState.DESTROYED
    if v.deprecated:
        return VersionState.DEPRECATED
    return VersionState.CURRENT if v.current else VersionState.PREVIOUS


def _reconcile_versions(secret, remote_versions, known: dict, ctx) -> bool:
    """Append versions we have not seen, update stages/state of known ones, and mark versions
    the backend no longer reports as deprecated (kept: lineage is history). True if anything changed."""
    pending_new, pending_update = ctx.new_versions, ctx.updated_versions
    differs = False
    reported = set()
    for v in remote_versions:
        vid = str(v.version_id)[:200]
        reported.add(vid)
        state, stages, created_at = _version_state(v), list(v.stages), aware(v.created_at)
        row = known.get(vid)
        if row is None:
            by = v.created_by or ("console" if secret.source == "console" else "import")
            pending_new.append(
                SecretVersion(
                    secret=secret,
                    version_id=vid,
                    stages=stages,
                    state=state,
                    created_at=created_at,
                    created_by=by[:255],
                )
            )
            differs = True
        elif (row.state, row.stages, row.created_at) != (state, stages, created_at or row.created_at):
            row.state, row.stages, row.created_at = state, stages, created_at or row.created_at
            pending_update.append(row)
            differs = True
    for vid, row in known.items():
        if vid not in reported and row.state in (VersionState.CURRENT, VersionState.PREVIOUS):
            row.state, row.stages = VersionState.DEPRECATED, []
            pending_update.append(row)
            differs = True
    return differs


def _flush_versions(ctx) -> None:
    new, updated = ctx.new_versions, ctx.updated_versions
    ctx.new_versions, ctx.updated_versions = [], []
    if new:
        SecretVersion.objects.bulk_create(new, batch_size=CHUNK)
    if updated:
        SecretVersion.objects.bulk_update(updated, ["state", "stages", "created_at"], batch_size=CHUNK)


def _mark_vanished(ctx) -> None:
    run, now = ctx.run, timezone.now()
    # Not seen by this walk, and not touched since it started (a secret registered meanwhile).
    candidates = Secret.objects.filter(backend=ctx.name, missing_since__isnull=True).filter(
        Q(last_seen__lt=run.started_at) | Q(last_seen__isnull=True)
    )
    gone_ids = set(candidates.values_list("pk", flat=True)) - ctx.seen
    gone = list(Secret.objects.filter(pk__in=gone_ids)) if gone_ids else []
    for secret in gone:
        secret.missing_since = now
        secret.status = Status.MISSING
        record(
            actions.SECRET_VANISHED,
            actor=ctx.actor,
            target=secret,
            data={"backend": ctx.name, "path": secret.path, "run": run.pk},
        )
    if gone:
        Secret.objects.bulk_update(gone, ["missing_since", "status"], batch_size=CHUNK)
    run.vanished = len(gone)


def _finish(ctx, state: str, error: str = "") -> None:
    run = ctx.run
    with transaction.atomic():
        if not run.finish(state, error):
            raise RunAbandoned(run.pk)
        record(
            actions.SYNC_FINISHED, actor=ctx.actor, target=run, data={**run.progress(), "error": run.error}
        )
        progress = {**run.progress(), "event": "finished", "error": run.error}
        transaction.on_commit(lambda: _publish(progress))


def _finish_quietly(ctx, state: str, error: str) -> None:
    try:
        _finish(ctx, state, error)
    except RunAbandoned:
        ctx.run.refresh_from_db()


def _publish(payload: dict) -> None:
    try:
        live.publish(TOPIC, payload)
        if payload.get("event") == "finished":  # new, changed or vanished secrets move the tiles
            dashboard_live.changed("sync")
    except Exception:  # live progress is a nicety; a broken channel layer must not fail the sync
        log.warning("could not publish inventory sync progress", exc_info=True)
