"""Beat's ledger jobs. Thin: each calls a service and returns a small JSON result for the log."""

from celery import shared_task

from secrets_admin.audit import anchors, intents, sequencer, verification


@shared_task(name="audit.sequence")
def sequence() -> dict:
    """Link committed entries (every 10 s: the backstop of `manage.py run_sequencer`) and raise
    the chain alert when an entry has waited longer than AUDIT_UNLINKED_ALERT_AFTER."""
    lag = sequencer.watch()
    return {"linked": sequencer.link(), "waiting_before": lag.pending}


@shared_task(name="audit.anchor")
def anchor() -> dict:
    """Verify from the last anchor, write the head as the new anchor, then check staleness (an
    anchor store that is down is retried here and at the next run, and alerted once stale)."""
    sequencer.link()
    outcome = verification.verify(record_clean=False)
    state = anchors.check_stale()
    return {
        "ok": outcome.ok,
        "head": outcome.last,
        "entries": outcome.entries,
        "broken_at": outcome.broken_at,
        "anchored": outcome.extra.get("anchored"),
        "stale": state.stale,
    }


@shared_task(name="audit.verify")
def verify(full: bool = False) -> dict:
    """A recorded verification (daily in full). A break is recorded and handed to the chain
    alert; an intact chain is anchored."""
    sequencer.link()
    outcome = verification.verify(full=bool(full))
    return {
        "ok": outcome.ok,
        "entries": outcome.entries,
        "head": outcome.last,
        "broken_at": outcome.broken_at,
    }


@shared_task(name="audit.reconcile_intents")
def reconcile_intents() -> dict:
    """Settle backend changes whose process died between the backend call and the finish."""
    return intents.reconcile()
