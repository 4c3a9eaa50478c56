"""The ledger's state in one place, for the audit page, the banner and /readyz."""

from dataclasses import dataclass
from datetime import datetime

from secrets_admin.audit import anchors, breaks, sequencer
from secrets_admin.audit.models import AuditCheckpoint, AuditEntry


@dataclass
class ChainStatus:
    head: int | None  # newest linked sequence
    lag: sequencer.Lag
    last: AuditCheckpoint | None  # newest recorded verification
    open_breaks: list[AuditCheckpoint]
    anchor: anchors.AnchorStatus

    @property
    def verified(self) -> tuple[int, datetime] | None:
        """(sequence, when) the chain was last found intact up to: the newer of the newest
        intact checkpoint and the newest anchor (anchors are written after a verification)."""
        found = []
        if self.last is not None and self.last.ok:
            found.append((self.last.created_at, self.last.sequence))
        if self.anchor.last is not None:
            found.append((self.anchor.last.created_at, self.anchor.last.sequence))
        if not found:
            return None
        when, sequence = max(found)
        return sequence, when

    @property
    def state(self) -> str:
        if self.open_breaks:
            return "broken"
        return "intact" if self.verified else "unverified"

    @property
    def alarms(self) -> list[str]:
        """One line per condition the security team must see on every page."""
        lines = [f"Audit chain broken at entry #{b.broken_at}: {b.problem}" for b in self.open_breaks[:3]]
        if len(self.open_breaks) > 3:
            lines.append(f"… and {len(self.open_breaks) - 3} more open breaks of the audit chain.")
        if self.anchor.stale:
            since = f"since {self.anchor.last.created_at:%Y-%m-%d %H:%M} UTC" if self.anchor.last else "yet"
            lines.append(f"The audit chain head has not been anchored outside the database {since}.")
        if self.lag.stuck:
            oldest = f"{self.lag.oldest_seconds:.0f} s"
            lines.append(f"{self.lag.pending} audit entries wait for the sequencer (oldest {oldest}).")
        return lines


def chain_status() -> ChainStatus:
    return ChainStatus(
        head=AuditEntry.objects.linked().order_by("-sequence").values_list("sequence", flat=True).first(),
        lag=sequencer.lag(),
        last=AuditCheckpoint.objects.order_by("-created_at", "-id").first(),
        open_breaks=breaks.open_breaks(),
        anchor=anchors.status(),
    )


def summary() -> dict:
    """The ledger's state as short strings (the /readyz detail)."""
    state = chain_status()
    detail = {"chain": state.state, "head": state.head or 0}
    if state.open_breaks:
        first = state.open_breaks[-1]
        detail["breaks"] = [f"#{b.broken_at}: {b.problem}" for b in state.open_breaks]
        detail["chain"] = f"broken at #{first.broken_at} (unacknowledged)"
    detail["unlinked"] = state.lag.pending
    detail["lag_s"] = round(state.lag.oldest_seconds or 0.0, 1)
    if not state.anchor.configured:
        detail["anchor"] = "off"
    elif state.anchor.last is None:
        detail["anchor"] = "never written"
    else:
        detail["anchor"] = f"#{state.anchor.last.sequence}, {state.anchor.age_seconds:.0f} s ago"
    if state.anchor.stale:
        detail["anchor"] = "stale: " + detail["anchor"]
        if state.anchor.failure:
            detail["anchor_error"] = state.anchor.failure.error[:200]
    return detail
