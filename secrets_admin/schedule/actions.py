"""Audit action names the schedule writes (registered with the audit ledger at start-up)."""

from secrets_admin.audit.actions import register, set_sentence

POLICY_UPDATED = "schedule.policy.updated"
OVERRIDE_SAVED = "schedule.override.saved"
OVERRIDE_REMOVED = "schedule.override.removed"
LINK_CREATED = "schedule.link.created"
LINK_REMOVED = "schedule.link.removed"

register(
    POLICY_UPDATED, "A rotation policy was edited (interval, lead, strategy, window, retries…): old → new"
)
register(OVERRIDE_SAVED, "A secret's own rotation settings or exemption were set or changed: old → new")
register(OVERRIDE_REMOVED, "A secret's own rotation settings were removed; it follows its policy again")
register(LINK_CREATED, "Two secrets were linked so that they never rotate at the same moment")
register(LINK_REMOVED, "A link between two secrets was removed")

set_sentence(POLICY_UPDATED, "{actor} edited rotation policy {target}")
set_sentence(OVERRIDE_SAVED, "{actor} set the rotation override of {target}")
set_sentence(OVERRIDE_REMOVED, "{actor} removed the rotation override of {target}")
set_sentence(LINK_CREATED, "{actor} linked {target} with {other}")
set_sentence(LINK_REMOVED, "{actor} unlinked {target} from {other}")
