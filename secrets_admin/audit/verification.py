"""Verification of the linked chain and its comparison with the anchor outside the database.

`verify()` checks linked entries (pending ones are the sequencer's, not the chain's yet):

- full: every entry from the first, then the newest anchor (the anchored entry must still carry
  the anchored hash, and must still exist);
- incremental: from the newest anchor, after checking that its entry is unchanged; without a
  readable anchor, from the newest intact checkpoint (AuditCheckpoint) instead.

It stops at the first break that nobody acknowledged (see secrets_admin.audit.breaks), records
every break as an AuditCheckpoint (shown until acknowledged, whatever later runs find), hands it
to the chain alert, and writes a new anchor when the chain is intact.
"""

import logging
import time

from django.db import connections

from secrets_admin.audit import alerting, anchors, chain, scan
from secrets_admin.audit.models import AuditCheckpoint, AuditEntry, BreakAcknowledgement

log = logging.getLogger(__name__)
CHUNK = 5000


def head(alias: str = "default") -> tuple[int, str]:
    """(sequence, hash) of the newest linked entry; (0, GENESIS) for an empty chain."""
    row = (
        AuditEntry.objects.using(alias).linked().order_by("-sequence").values_list("sequence", "hash").first()
    )
    return row or (0, chain.GENESIS)


def last_checkpoint(alias: str = "default") -> AuditCheckpoint | None:
    """The newest verification that found the chain intact (where incremental runs start when
    no anchor can be read)."""
    return AuditCheckpoint.objects.using(alias).filter(ok=True).order_by("-created_at", "-id").first()


def accepted(alias: str = "default") -> frozenset:
    """Fingerprints of the breaks the security team acknowledged."""
    return frozenset(BreakAcknowledgement.objects.using(alias).values_list("fingerprint", flat=True))


def _check_checkpoint(alias, checkpoint, accepted_) -> chain.Outcome | None:
    """An incremental run trusts a checkpoint only if its entry is still there, unchanged."""
    if checkpoint.sequence == 0:
        return None
    row = (
        AuditEntry.objects.using(alias)
        .filter(sequence=checkpoint.sequence)
        .values_list(*chain.FIELDS)
        .first()
    )
    if row is None:
        top = head(alias)[0]
        problem = f"entries from #{top + 1} are gone (the last checkpoint had #{checkpoint.sequence})"
        outcome = chain.Outcome().fail(top + 1, problem, checkpoint.hash, kind="cut")
        outcome.fingerprint = f"cut:checkpoint{checkpoint.pk}:{checkpoint.hash}"
    else:
        outcome = chain.verify_rows(
            [row], after=checkpoint.sequence - 1, prev_hash=row[-2], accepted=accepted_
        )
        if outcome.ok and row[-1] != checkpoint.hash:
            problem = f"entry #{checkpoint.sequence} differs from the last checkpoint"
            outcome = chain.Outcome().fail(
                checkpoint.sequence, problem, checkpoint.hash, row[-1], kind="altered"
            )
    return None if outcome.ok or outcome.fingerprint in accepted_ else outcome


def _check_anchor(alias, anchor: anchors.Anchor, accepted_) -> chain.Outcome | None:
    """None when the chain still agrees with `anchor`, or the disagreement was acknowledged."""
    if anchor.sequence == 0:
        return None
    row = AuditEntry.objects.using(alias).filter(sequence=anchor.sequence).values_list(*chain.FIELDS).first()
    stored = row[-1] if row else None
    written = f"anchored {anchor.written_at or 'earlier'} (version {anchor.version})"
    if stored == anchor.hash:
        # The anchored entry itself must still hash to what it stores (its content may have been
        # changed without touching its hash); incremental runs start right after it.
        own = chain.verify_rows([row], after=anchor.sequence - 1, prev_hash=row[-2], accepted=accepted_)
        return None if own.ok else own
    top = head(alias)[0]
    if stored is None and top < anchor.sequence:
        gone = f"entries from #{top + 1} to #{anchor.sequence} are gone"
        problem = f"{gone}: the chain head #{anchor.sequence} was {written}"
        outcome = chain.Outcome().fail(top + 1, problem, anchor.hash, "", kind="cut")
    elif stored is None:
        problem = f"entry #{anchor.sequence}, {written}, is missing"
        outcome = chain.Outcome().fail(anchor.sequence, problem, anchor.hash, "", kind="missing")
    else:
        problem = f"entry #{anchor.sequence} differs from the hash {written}: the chain was rewritten"
        outcome = chain.Outcome().fail(anchor.sequence, problem, anchor.hash, stored, kind="anchor")
    outcome.fingerprint = f"anchor:v{anchor.version}:{anchor.hash}"  # stable while new entries arrive
    return None if outcome.fingerprint in accepted_ else outcome


def _stream(alias, after: int, prev_hash: str, accepted_) -> chain.Outcome:
    """Verify the linked entries after `after`: on PostgreSQL by COPY, a long run split across
    two processes (secrets_admin.audit.scan); elsewhere through the ORM."""
    connection = connections[alias]
    if connection.vendor == "postgresql":
        top = head(alias)[0]
        if top - after >= scan.PARALLEL_MIN:
            return scan.verify_split(connection, after, prev_hash, accepted_, top)
        with connection.cursor() as cursor:
            return scan.verify_range(cursor.cursor, after, prev_hash, accepted_)
    rows = (
        AuditEntry.objects.using(alias)
        .filter(sequence__gt=after)
        .order_by("sequence")
        .values_list(*chain.FIELDS)
        .iterator(chunk_size=CHUNK)
    )
    return chain.verify_rows(rows, after=after, prev_hash=prev_hash, accepted=accepted_)


def verify(
    *,
    full: bool = False,
    alias: str = "default",
    record_clean: bool = True,
    write_anchor: bool = True,
    anchor_tries: int = 3,
) -> chain.Outcome:
    """Verify the chain (all of it with `full`, else from the newest anchor or checkpoint),
    compare it with the newest anchor, and return the outcome; never raises for a broken chain.

    A break is recorded as an AuditCheckpoint and handed to the chain alert (once per hour per
    break). An intact run is recorded too unless `record_clean` is False (beat's 30-second
    anchor runs), and then written as the new anchor when `write_anchor` (the store's failure is
    recorded, never raised). `outcome.extra` holds full, from, seconds and anchor (what the
    anchor comparison said)."""
    started = time.monotonic()
    accepted_ = accepted(alias)
    latest, note = None, "anchoring is off"
    if anchors.store() is not None:
        try:
            latest = anchors.latest()
            note = (
                "no anchor written yet"
                if latest is None
                else f"matches #{latest.sequence} (version {latest.version})"
            )
        except anchors.AnchorUnavailable as exc:
            note = f"not checked: {exc}"
    outcome, after, prev_hash = None, 0, chain.GENESIS
    if not full:
        if latest is not None:
            outcome = _check_anchor(alias, latest, accepted_)
            if outcome is None and f"anchor:v{latest.version}:{latest.hash}" in accepted_:
                full = True  # the anchor was disowned: re-verify everything, then anchor anew
                note = f"version {latest.version} acknowledged as wrong; verified in full"
            elif outcome is None:
                after, prev_hash = latest.sequence, latest.hash
        elif checkpoint := last_checkpoint(alias):
            outcome = _check_checkpoint(alias, checkpoint, accepted_)
            after, prev_hash = checkpoint.sequence, checkpoint.hash
        else:
            full = True
    if outcome is None:
        outcome = _stream(alias, after, prev_hash, accepted_)
        if outcome.ok and full and latest is not None:
            outcome = _check_anchor(alias, latest, accepted_) or outcome
    seconds = round(time.monotonic() - started, 3)
    outcome.extra = {"full": full, "from": after + 1, "seconds": seconds, "anchor": note}
    if not outcome.ok:
        outcome.extra["anchor"] = note if outcome.kind not in ("anchor", "cut") else "does not match"
        _save(alias, outcome, full=full, after=after)
        alerting.alert(outcome.kind, outcome.problem, episode=outcome.fingerprint, outcome=outcome)
        return outcome
    if record_clean:
        _save(alias, outcome, full=full, after=after)
    if write_anchor:
        written = anchors.write(
            outcome.last, outcome.last_hash, reason="full" if full else "periodic", tries=anchor_tries
        )
        if written is not None:
            outcome.extra["anchored"] = written.ok
    return outcome


def _save(alias, outcome: chain.Outcome, *, full: bool, after: int) -> AuditCheckpoint:
    return AuditCheckpoint.objects.using(alias).create(
        full=full,
        ok=outcome.ok,
        sequence=outcome.last,
        hash=outcome.last_hash,
        checked_from=after + 1,
        entries=outcome.entries,
        duration_ms=int(outcome.extra["seconds"] * 1000),
        broken_at=outcome.broken_at,
        problem=outcome.problem,
        kind=outcome.kind,
        fingerprint=outcome.fingerprint,
        expected=outcome.expected,
        found=outcome.found,
        stepped_over=outcome.stepped_over,
        anchor=outcome.extra.get("anchor", "")[:300],
    )
