"""Audit actions and intents of break-glass and access requests (registered at start-up)."""

from secrets_admin.audit import intents
from secrets_admin.audit.actions import register

REQUESTED = register(
    "breakglass.requested", "Someone asked for access", sentence="{actor} asked for {kind} access: {target}"
)
EDITED = register(
    "breakglass.edited",
    "A pending request was edited; its approvals were voided",
    sentence="{actor} edited {target}; its approvals start over",
)
APPROVED = register(
    "breakglass.approved",
    "An approver filled a group slot with a fresh one-time code",
    sentence="{actor} approved {target} for {group}",
)
DENIED = register("breakglass.denied", "A request was denied (final)", sentence="{actor} denied {target}")
REFUSED = register(
    "breakglass.refused",
    "A request, approval or grant action was refused, nothing granted",
    sentence="{actor} was refused on {target}: {why}",
)
EXPIRED = register(
    "breakglass.expired_unapproved",
    "A request expired before all its approvals",
    sentence="{target} expired unapproved",
)
GRANTED = register(
    "breakglass.granted",
    "OpenBao issued the grant's token (accessor recorded, never the token)",
    sentence="{actor} issued {target}",
)
GRANT_FAILED = register(
    "breakglass.grant_failed", "OpenBao refused to issue a grant's token", sentence="{target} was not issued"
)
REVEALED = register(
    "breakglass.revealed",
    "The requester revealed the grant's token (once; the console no longer holds it)",
    sentence="{actor} revealed the token of {target}",
)
ENDED = register(
    "breakglass.ended",
    "A grant ended (expiry or early end) and its token was revoked",
    sentence="{actor} ended {target}: {why}",
)
ROTATION_QUEUED = register(
    "breakglass.rotation_queued",
    "A secret read during a break-glass grant was queued for rotation (assume breach)",
    sentence="{actor} queued {path} for rotation after {target}",
)
REVIEW_OPENED = register(
    "breakglass.review.opened", "A post-incident review opened", sentence="{actor} opened {target}"
)
REVIEW_NOTED = register(
    "breakglass.review.noted",
    "Notes of a post-incident review were saved",
    sentence="{actor} wrote notes on {target}",
)
REVIEW_SIGNED = register(
    "breakglass.review.signed_off",
    "A post-incident review was signed off",
    sentence="{actor} signed off {target}",
)
REVIEW_ESCALATED = register(
    "breakglass.review.escalated",
    "A post-incident review was not signed off in time; alert raised",
    sentence="{actor} escalated {target}",
)
EVIDENCE_EXPORTED = register(
    "breakglass.evidence.exported",
    "Someone exported the evidence of a request",
    sentence="{actor} exported the evidence of {target}",
)

GRANT_INTENT = "breakglass.grant"
REVOKE_INTENT = "breakglass.revoke"
intents.register(GRANT_INTENT, "breakglass.services.grants.settle_grant")
