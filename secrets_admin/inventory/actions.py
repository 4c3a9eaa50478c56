"""Audit action names the inventory writes (registered with the audit ledger at start-up)."""

from secrets_admin.audit import intents
from secrets_admin.audit.actions import register, set_sentence

SYNC_FINISHED = "inventory.sync.finished"
SYNC_REQUESTED = "inventory.sync.requested"
SYNC_SKIPPED = "inventory.sync.skipped"
SYNC_ABANDONED = "inventory.sync.abandoned"
STATUS_REFRESHED = "inventory.status.refreshed"
SECRET_DISCOVERED = "inventory.secret.discovered"
SECRET_VANISHED = "inventory.secret.vanished"
SECRET_UPDATED = "inventory.secret.updated"
SECRET_REGISTERED = "inventory.secret.registered"
SECRET_CREATED = "inventory.secret.created"

register(SYNC_FINISHED, "An inventory sync run finished (counts of created, changed, vanished, errors)")
register(SYNC_REQUESTED, "Someone pressed 'Sync now' for a backend (the sync itself is a separate entry)")
register(SYNC_SKIPPED, "A sync did not start: another sync of the same backend was running")
register(
    SYNC_ABANDONED, "A running sync gave no sign of life for too long (its worker died): marked abandoned"
)
register(STATUS_REFRESHED, "The periodic recompute changed the status or due date of some secrets (counts)")
register(SECRET_DISCOVERED, "Sync found a secret the inventory did not know")
register(SECRET_VANISHED, "Sync no longer found a secret in its backend; marked missing, history kept")
register(SECRET_UPDATED, "Secret metadata edited in the console and written back to its backend")
register(SECRET_REGISTERED, "An existing backend secret was imported into the inventory from the console")
register(SECRET_CREATED, "A new secret with a generated value was created in a backend from the console")

# How the audit page words each entry (appended by the audit-page work).
set_sentence(SYNC_FINISHED, "{actor} finished {target}: {seen} seen, {created} new, {changed} changed")
set_sentence(SYNC_REQUESTED, "{actor} asked for a sync of {backend} now")
set_sentence(SYNC_SKIPPED, "{actor} did not start a sync of {backend}: run {running} was still going")
set_sentence(SYNC_ABANDONED, "{actor} marked {target} abandoned: no sign of life for {silent_seconds} s")
set_sentence(
    STATUS_REFRESHED, "{actor} recomputed statuses: {status} changed status, {next_due} changed due date"
)
set_sentence(SECRET_DISCOVERED, "{actor} found {target}, new to the inventory")
set_sentence(SECRET_VANISHED, "{actor} no longer found {target} in {backend}: marked missing")
set_sentence(SECRET_UPDATED, "{actor} edited the metadata of {target}")
set_sentence(SECRET_REGISTERED, "{actor} imported {target} into the inventory")
set_sentence(SECRET_CREATED, "{actor} created {target} with a generated value")
# Backend changes made through intents (secrets_admin.audit.intents): how the reconciler settles each.
intents.register("inventory.metadata", "secrets_admin.inventory.services.edit.settle_metadata")
intents.register("inventory.create", "secrets_admin.inventory.services.register.settle_create")
