"""Grants: the OpenBao side of an approved request.

Issue (after the approval transaction committed, no transaction open during the calls):
write the policy for exactly the approved paths, create the token (its metadata names the
grant), then one short transaction stores the accessor and the encrypted token, activates the
request and finishes the intent. A process that dies in between leaves the intent (recorded with
the approval, before any call) pending; `settle_grant` (the intents reconciler) finds any token
it made by that metadata, revokes it by accessor and confirms it is gone, deletes the policy, and
marks the grant not issued.

End (expiry by beat, or early with a code): revoke by accessor (idempotent), confirm with a
lookup that the token is gone, delete the policy, then end the grant in a short transaction.

Nothing here publishes to the live approvals queue: it lists pending requests only, which a
grant's issue, reveal or end never changes (each publish cost the approver's request a Redis
round trip and an event loop hop).
"""

import logging

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from breakglass import actions, notify
from breakglass.models import AccessRequest, Grant
from breakglass.models.grant import GrantState
from breakglass.models.request import Kind, Status
from breakglass.services.common import Refused, audited_refusals
from secrets_admin.accounts import crypto
from secrets_admin.accounts.access import user_in
from secrets_admin.accounts.stepup import verify_step_up
from secrets_admin.audit import intents
from secrets_admin.audit.services import record
from secrets_admin.backends import BackendError, get_backend
from secrets_admin.backends import vault_tokens as tokens
from secrets_admin.roles import CTO, SECURITY_TEAM
from secrets_admin.rotation.crashpoints import crash_point

log = logging.getLogger(__name__)
SYSTEM = "celery:breakglass"


def issue(final, *, actor, request=None) -> Grant:
    """Steps 2 and 3 of the grant; returns the grant (active, or failed with its reason)."""
    grant, intent = final
    access = grant.request
    backend = get_backend(grant.backend)
    try:
        names = {item["path"]: item["names"] for item in access.scope if item.get("names")}
        text = tokens.policy_text(backend, access.paths, names=names, until=grant.expires_at)
        tokens.write_policy(backend, grant.policy_name, text)
        issued = tokens.create_token(
            backend,
            policy=grant.policy_name,
            seconds=max(1, int((grant.expires_at - timezone.now()).total_seconds())),
            metadata={
                "candlefish_request": str(access.pk),
                "candlefish_grant": str(grant.pk),
                "requester": access.requester_name,
                "kind": access.kind,
                "request_hash": access.request_hash,
            },
            display_name=f"candlefish-request-{access.pk}",
        )
        crash_point("breakglass:after-mint")  # tests: die with the token made, not recorded
    except BackendError as exc:
        log.warning("grant %s not issued: %s", grant.pk, exc)
        _fail(grant, intent, str(exc))
        _neutralise(backend, grant)  # a policy written before the token was refused goes too
        return grant
    with transaction.atomic():
        settled_first = not intents.finish(intent, result={"accessor": issued.accessor})
        if settled_first:  # the reconciler gave up on it meanwhile: this token must not live
            transaction.set_rollback(True)
        else:
            grant.state, grant.accessor, grant.issued_at = GrantState.ACTIVE, issued.accessor, timezone.now()
            grant.sealed_token = crypto.encrypt(issued.token.encode())
            grant.save(update_fields=["state", "accessor", "sealed_token", "issued_at"])
            AccessRequest.objects.filter(pk=access.pk, status=Status.APPROVED).update(status=Status.ACTIVE)
            record(
                actions.GRANTED,
                actor=actor,
                target=grant,
                data={
                    "request": access.pk,
                    "accessor": issued.accessor,
                    "policy": grant.policy_name,
                    "paths": access.paths,
                    "ttl": issued.ttl,
                    "expires_at": grant.expires_at.isoformat(),
                },
                request=request,
            )
            transaction.on_commit(lambda: notify.later("activated", grant.pk))
    if settled_first:
        tokens.revoke_accessor(backend, issued.accessor)
        _neutralise(backend, grant)
    del issued
    return grant


def _fail(grant, intent, error: str, *, revoked: list[str] = ()) -> None:
    if not intents.fail(intent, error):
        return
    with transaction.atomic():
        changes = {"state": GrantState.FAILED, "error": error[:2000]}
        if revoked:  # the orphan the reconciler found: its accessor, and that it is gone
            changes.update(accessor=revoked[0], token_gone_at=timezone.now())
        Grant.objects.filter(pk=grant.pk).update(**changes)
        AccessRequest.objects.filter(pk=grant.request_id, status=Status.APPROVED).update(status=Status.FAILED)
        data = {"request": grant.request_id, **({"revoked_accessors": list(revoked)} if revoked else {})}
        record(actions.GRANT_FAILED, actor=SYSTEM, target=grant, data=data)


def _neutralise(backend, grant) -> None:
    """A token we may have made but never recorded: its policy goes, so it can do nothing."""
    try:
        tokens.delete_policy(backend, grant.policy_name)
    except BackendError as exc:
        log.warning("policy %s not deleted: %s", grant.policy_name, exc)


def settle_grant(intent) -> None:
    """Reconciler: a grant whose process died after the approval. A token it minted carries the
    grant in its metadata: found among OpenBao's accessors, revoked, confirmed gone. The policy
    is deleted too (belt and braces), and the grant marked not issued; the requester asks again.
    Raises while OpenBao cannot be asked (the intent stays pending; the reconciler tries again)."""
    grant = Grant.objects.get(pk=intent.data["grant"])
    backend = get_backend(grant.backend)
    orphans = tokens.find_accessors(backend, {"candlefish_grant": str(grant.pk)})
    for accessor in orphans:
        tokens.revoke_accessor(backend, accessor)
        if tokens.lookup_accessor(backend, accessor) is not None:
            raise BackendError(
                "an orphan grant token is still there after revoke", permanent=False, backend=backend.name
            )
    tokens.delete_policy(backend, grant.policy_name)
    why = "the console stopped while issuing the token; "
    why += f"the token it made was found and revoked ({len(orphans)})" if orphans else "no token was made"
    _fail(grant, intent, why + "; its policy was deleted", revoked=orphans)


def do_reveal(grant_id: int, *, actor: User, code: str, request=None) -> str:
    """The token, once, to its requester, with a fresh code; the console forgets it in the same
    transaction. Refused: anyone else, an ended grant, a second reveal."""
    with audited_refusals(actor=actor, request_id=_request_of(grant_id), doing="reveal", request=request):
        with transaction.atomic():
            grant = Grant.objects.select_for_update().select_related("request").get(pk=grant_id)
            if grant.request.requester_id != actor.pk:
                raise Refused(
                    "Only the person who asked for this access can reveal its token.", why="not_requester"
                )
            if not grant.live:
                raise Refused("This grant is not active: there is no token to reveal.", why="not_active")
            if not grant.sealed_token or grant.revealed_at:
                raise Refused(
                    "The token was already revealed; the console no longer holds it.", why="revealed"
                )
            verify_step_up(actor, code, purpose=f"breakglass.reveal:{grant.pk}", request=request)
            token = crypto.decrypt(grant.sealed_token).decode()
            grant.sealed_token = ""
            grant.revealed_at = timezone.now()
            grant.save(update_fields=["sealed_token", "revealed_at"])
            record(
                actions.REVEALED,
                actor=actor,
                target=grant,
                data={"request": grant.request_id},
                request=request,
            )
    return token


def certificate_commands(grant) -> list[str]:
    """For a certificate in scope: the one command its token may run (names and `not_after`
    exactly as the grant's policy allows them). Nothing secret in it."""
    from secrets_admin.backends.vault_tokens import PKI_ROLE, not_after

    if grant.state != GrantState.ACTIVE:
        return []
    pki = get_backend(grant.backend).mounts["pki"]
    lines = []
    for item in grant.request.scope:
        names = item.get("names") or []
        if names:
            alt = f" alt_names={','.join(names[1:])}" if names[1:] else ""
            lines.append(
                f"bao write {pki}/issue/{PKI_ROLE} common_name={names[0]}{alt} "
                f"not_after={not_after(grant.expires_at)}"
            )
    return lines


def _request_of(grant_id) -> int | None:
    return Grant.objects.filter(pk=grant_id).values_list("request_id", flat=True).first()


def may_end(user, grant) -> bool:
    return grant.request.requester_id == user.pk or user_in(user, SECURITY_TEAM, CTO)


def do_end(grant_id: int, *, actor: User, code: str, reason: str = "", request=None) -> Grant:
    """End a grant early (its requester, the security team or the CTO), with a fresh code."""
    with audited_refusals(actor=actor, request_id=_request_of(grant_id), doing="end", request=request):
        with transaction.atomic():
            grant = Grant.objects.select_related("request").get(pk=grant_id)
            if not may_end(actor, grant):
                raise Refused(
                    "Only the requester or the security team can end this grant.", why="not_allowed"
                )
            if grant.state != GrantState.ACTIVE:
                raise Refused("This grant is not active.", why="not_active")
            verify_step_up(actor, code, purpose=f"breakglass.end:{grant.pk}", request=request)
    return end(grant, actor=actor, why=(reason or "ended early").strip()[:200], early=True, request=request)


def end(grant: Grant, *, actor, why: str, early: bool = False, request=None) -> Grant:
    """Revoke the token (idempotent), confirm it is gone, then end the grant. Raises
    BackendError while OpenBao cannot confirm (beat tries again; the grant stays active)."""
    backend = get_backend(grant.backend)
    if grant.accessor:
        tokens.revoke_accessor(backend, grant.accessor)
        if tokens.lookup_accessor(backend, grant.accessor) is not None:
            raise BackendError("the token is still there after revoke", permanent=False, backend=backend.name)
    _neutralise(backend, grant)
    with transaction.atomic():
        state = GrantState.REVOKED if early else GrantState.ENDED
        now = timezone.now()
        if not Grant.objects.filter(pk=grant.pk, state=GrantState.ACTIVE).update(
            state=state,
            ended_at=now,
            token_gone_at=now,
            sealed_token="",
            ended_by_name=_name(actor),
            end_reason=why,
        ):
            grant.refresh_from_db()
            return grant  # someone else ended it first
        AccessRequest.objects.filter(pk=grant.request_id, status=Status.ACTIVE).update(
            status=Status.REVOKED if early else Status.ENDED
        )
        grant.refresh_from_db()
        record(
            actions.ENDED,
            actor=actor,
            target=grant,
            data={"why": why, "accessor": grant.accessor},
            request=request,
        )
        if grant.request.kind == Kind.BREAK_GLASS:
            from breakglass.services.after import after_the_glass

            after_the_glass(grant)
    return grant


def _name(actor) -> str:
    return actor.get_username() if hasattr(actor, "get_username") else str(actor)


def end_expired(*, now=None) -> dict:
    """Beat: end every active grant past its expiry (OpenBao's TTL already ended the token;
    this confirms it and records the end). Returns counts."""
    now = now or timezone.now()
    counts = {"ended": 0, "waiting": 0}
    for grant in Grant.objects.filter(state=GrantState.ACTIVE, expires_at__lte=now).select_related("request")[
        :200
    ]:
        try:
            end(grant, actor=SYSTEM, why="expired")
            counts["ended"] += 1
        except BackendError as exc:
            log.warning("grant %s not ended yet: %s", grant.pk, exc)
            counts["waiting"] += 1
    return counts
