"""The audit chain's proof for a date range: which entries an export carries, and the anchors.

The entries of [start, end) are those the writers stamped in that range. The chain order is
the sequencer's, and `created_at` may step back a little along it, so the export carries the
contiguous run of linked entries from the lowest to the highest sequence stamped in the range
(a few neighbours from just outside it may come along; `in_range` says which). The run is
widened to the nearest anchor at or before its start and the first anchor at or after its end
(each at most WIDEN_MAX entries away), so both ends meet a chain head that was written outside
the database. The anchors are read back from OpenBao (the store's version history is the
authority; the AuditAnchor rows only say which versions to read).
"""

import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime

from django.conf import settings
from django.db.models import Max, Min

from secrets_admin.audit import anchors, chain, verification
from secrets_admin.audit.models import AuditAnchor, AuditEntry
from secrets_admin.backends import BackendError, get_backend

log = logging.getLogger(__name__)
WIDEN_MAX = 50_000


@dataclass
class Segment:
    first: int = 0  # first sequence carried (0: none)
    last: int = 0
    in_range_first: int = 0
    in_range_last: int = 0
    first_prev_hash: str = chain.GENESIS
    first_hash: str = ""
    last_hash: str = ""
    anchors: list = field(default_factory=list)
    note: str = ""

    @property
    def entries(self) -> int:
        return self.last - self.first + 1 if self.first else 0

    def as_dict(self) -> dict:
        document = asdict(self)
        document["entries"] = self.entries
        return document


def _anchor_rows(first: int, last: int) -> tuple[AuditAnchor | None, AuditAnchor | None]:
    rows = AuditAnchor.objects.filter(ok=True, store=settings.AUDIT_ANCHOR, version__isnull=False)
    before = (
        rows.filter(sequence__lte=first, sequence__gte=max(1, first - WIDEN_MAX))
        .order_by("-sequence", "-version")
        .first()
    )
    after = (
        rows.filter(sequence__gte=last, sequence__lte=last + WIDEN_MAX)
        .order_by("sequence", "version")
        .first()
    )
    return before, after


def _read(row: AuditAnchor, role: str) -> dict | None:
    """The anchor version `row` names, as OpenBao holds it; None (logged) when unreadable."""
    backend, path = anchors.store()
    try:
        found = get_backend(backend).read_anchor(path, version=row.version)
    except BackendError as exc:
        log.warning("evidence: anchor version %s unreadable: %s", row.version, exc)
        return None
    if not found:
        return None
    document, version = found
    try:
        return {
            "role": role,
            "sequence": int(document["sequence"]),
            "hash": str(document["hash"]),
            "written_at": str(document.get("written_at", "")),
            "version": version,
            "store": settings.AUDIT_ANCHOR,
        }
    except (KeyError, TypeError, ValueError):
        return None


def anchor_now() -> str:
    """Verify from the newest anchor and anchor the head (outside any transaction), so the
    export's end meets an anchor. Returns a note when that did not work."""
    if anchors.store() is None:
        return "anchoring is off (AUDIT_ANCHOR=off): the chain is only self-consistent"
    outcome = verification.verify(record_clean=False, anchor_tries=1)
    if not outcome.ok:
        return f"the chain is broken at #{outcome.broken_at} ({outcome.problem}); no new anchor was written"
    if not outcome.extra.get("anchored", False):
        return "the anchor store could not be written just now; the newest earlier anchor is used"
    return ""


def segment_for(start: datetime, end: datetime) -> Segment:
    """The run of linked entries that covers [start, end), widened to its anchors."""
    bounds = AuditEntry.objects.linked().filter(created_at__gte=start, created_at__lt=end)
    found = bounds.aggregate(first=Min("sequence"), last=Max("sequence"))
    segment = Segment(note=anchor_now())
    if found["first"] is None:
        segment.note = (
            segment.note + "; " if segment.note else ""
        ) + "no audit entry was written in the range"
        return segment
    segment.in_range_first, segment.in_range_last = found["first"], found["last"]
    first, last = found["first"], found["last"]
    if anchors.store() is not None:
        before, after = _anchor_rows(first, last)
        for row, role in ((before, "start"), (after, "end")):
            if row is None:
                continue
            anchor = _read(row, role)
            if anchor is None:
                segment.note = (
                    segment.note + "; " if segment.note else ""
                ) + f"anchor version {row.version} could not be read from OpenBao"
                continue
            segment.anchors.append(anchor)
            first, last = min(first, anchor["sequence"]), max(last, anchor["sequence"])
        if not any(a["role"] == "end" for a in segment.anchors):
            segment.note = (
                segment.note + "; " if segment.note else ""
            ) + "no anchor covers the end of the range yet"
    ends = dict(AuditEntry.objects.filter(sequence__in=(first, last)).values_list("sequence", "hash"))
    segment.first, segment.last = first, last
    segment.first_hash, segment.last_hash = ends.get(first, ""), ends.get(last, "")
    segment.first_prev_hash = (
        AuditEntry.objects.filter(sequence=first).values_list("prev_hash", flat=True).first() or chain.GENESIS
    )
    return segment
