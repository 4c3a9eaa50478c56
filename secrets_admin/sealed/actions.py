"""Audit action names for Sealed Secrets (registered with the ledger at start-up)."""

from secrets_admin.audit.actions import register, set_sentence

KEY_SEEN = "sealed.key.seen"
KEY_BACKED_UP = "sealed.key.backed_up"
CAMPAIGN_STARTED = "sealed.campaign.started"
CAMPAIGN_LAUNCHED = "sealed.campaign.launched"

register(KEY_SEEN, "The console saw a new sealing certificate (a new controller key to back up)")
register(KEY_BACKED_UP, "Someone confirmed, with a one-time code, that a sealing key is backed up")
register(CAMPAIGN_STARTED, "Someone started a re-seal campaign for manifests on old certificates")
register(CAMPAIGN_LAUNCHED, "A re-seal campaign started its rotation runs (counts; refusals in words)")

set_sentence(KEY_SEEN, "{actor} saw a new sealing key {target}")
set_sentence(KEY_BACKED_UP, "{actor} confirmed {target} is backed up")
set_sentence(CAMPAIGN_STARTED, "{actor} started {target} for {wanted} manifest(s)")
set_sentence(CAMPAIGN_LAUNCHED, "{actor} launched {target}: {started} run(s), {refused} refused")
