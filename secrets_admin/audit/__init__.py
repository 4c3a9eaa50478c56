"""The audit ledger: an append-only, hash-chained record of every state change.

Write entries only with `secrets_admin.audit.services.record()` inside the caller's transaction.
"""
