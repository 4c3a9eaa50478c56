"""Dynamic-credential leases of OpenBao's database engine: listed with their TTL, and an
orphaned one (its role is gone) revoked by the security team with a one-time code, audited.

The revoke goes through an intent (secrets_admin.audit.intents): the code is spent and the
intent recorded in one short transaction, OpenBao is called outside any, and a second short
transaction records `rotation.lease.revoked`. A crash in between is settled by `settle_revoke`
(revoking is idempotent, so it simply revokes again).
"""

import logging

from django.core.exceptions import ValidationError
from django.db import transaction

from secrets_admin.accounts.stepup import verify_step_up
from secrets_admin.audit import actions as audit_actions
from secrets_admin.audit import intents
from secrets_admin.audit.services import record
from secrets_admin.backends import BackendError, backends_of_kind, get_backend
from secrets_admin.backends import vault_engines as engines

log = logging.getLogger(__name__)
LEASE_REVOKED = "rotation.lease.revoked"
REVOKE_INTENT = "rotation.lease.revoke"

audit_actions.register(
    LEASE_REVOKED,
    "An orphaned database lease was revoked in OpenBao/Vault (its login dropped on the target)",
    sentence="{actor} revoked the orphaned lease {lease_id} of role {role} in {backend}",
)
intents.register(REVOKE_INTENT, "secrets_admin.rotation.leases.settle_revoke")


def outstanding() -> tuple[list[tuple[str, list]], list[tuple[str, BackendError]]]:
    """([(backend name, [Lease])], [(backend name, error)]) for every vault backend."""
    found, problems = [], []
    for store in backends_of_kind("vault"):
        name = store.name
        try:
            leases = engines.list_leases(store)
        except BackendError as exc:
            problems.append((name, exc))
            continue
        found.append(
            (name, sorted(leases, key=lambda lease: (not lease.orphaned, lease.role, lease.lease_id)))
        )
    return found, problems


def revoke_purpose(backend: str, lease_id: str) -> str:
    return f"rotation.lease.revoke:{backend}:{lease_id}"[:255]


def do_revoke_orphaned_lease(backend: str, lease_id: str, *, actor, otp: str, request=None) -> None:
    """Revoke `lease_id` if it is outstanding and orphaned. Raises ValidationError (not
    outstanding, not orphaned: nothing spent), StepUpFailed, BackendError (the intent is failed
    and audited; the code stays spent)."""
    if backend not in {store.name for store in backends_of_kind("vault")}:
        raise ValidationError("Choose one of the OpenBao/Vault connections.")
    store = get_backend(backend)
    lease = next((item for item in engines.list_leases(store) if item.lease_id == lease_id), None)
    if lease is None:
        raise ValidationError("That lease is no longer outstanding: nothing to revoke.")
    if not lease.orphaned:
        raise ValidationError(
            f"That lease's role {lease.role} still exists; only orphaned leases are revoked here."
        )
    data = {"backend": backend, "lease_id": lease_id, "role": lease.role}
    with transaction.atomic():
        verify_step_up(actor, otp, purpose=revoke_purpose(backend, lease_id), request=request)
    with transaction.atomic():
        intent = intents.begin(
            REVOKE_INTENT, key=f"lease:{backend}:{lease_id}", actor=actor, data=data, request=request
        )
    try:
        engines.revoke_lease(store, lease_id)
    except BackendError as exc:
        intents.fail(intent, str(exc))
        raise
    _done(intent, actor=actor, request=request)


def _done(intent, *, actor, request=None) -> None:
    with transaction.atomic():
        if intents.finish(intent, result={"revoked": True}):
            record(LEASE_REVOKED, actor=actor, data=dict(intent.data), request=request)
    log.info("lease %s of %s revoked", intent.data["lease_id"], intent.data["backend"])


def settle_revoke(intent) -> None:
    """The reconciler's half: revoke again (idempotent) and record it; leave the intent pending
    while OpenBao cannot be reached."""
    try:
        engines.revoke_lease(get_backend(intent.data["backend"]), intent.data["lease_id"])
    except BackendError as exc:
        if exc.permanent:
            intents.fail(intent, str(exc), settled=True)
        return
    _done(intent, actor=intent.actor or intents.RECONCILER)
