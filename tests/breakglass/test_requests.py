"""Asking for access: what is refused (with words, audited, nothing created), editing, denying
and expiring."""

from datetime import timedelta

import pytest
from django.utils import timezone

from breakglass.models import AccessRequest, Approval
from breakglass.models.request import Status, request_hash
from breakglass.policy import RequestRefused
from breakglass.services import approve, requests
from breakglass.services.common import Refused
from secrets_admin.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def refusals():
    return list(
        AuditEntry.objects.filter(action="breakglass.refused")
        .order_by("id")
        .values_list("data__why", flat=True)
    )


def test_a_request_is_pending_with_its_hash_and_defaults(ask, secret_at):
    secret = secret_at("payments/db")
    access = ask(secret)
    assert access.status == Status.PENDING
    assert access.groups == ["security-team", "cto"]
    assert access.duration_seconds == 4 * 3600
    assert access.record_session is True
    assert access.scope == [
        {"secret": secret.pk, "backend": "vault", "path": secret.path, "environment": "production"}
    ]
    assert access.request_hash == request_hash(
        scope=[secret.path], duration_seconds=4 * 3600, reason=access.reason, groups=["security-team", "cto"]
    )
    assert access.pending_until - access.created_at == timedelta(hours=1)
    assert AuditEntry.objects.filter(action="breakglass.requested", target_id=str(access.pk)).count() == 1


def test_standard_access_needs_security_team_only_and_may_last_24h(ask, secret_at):
    access = ask(secret_at("a"), kind="standard", duration="24h")
    assert access.groups == ["security-team"]
    assert access.duration_seconds == 24 * 3600


@pytest.mark.parametrize(
    ("kwargs", "why", "words"),
    [
        ({"duration": "9h"}, "too_long", "at most 8 h"),
        ({"reason": "need it"}, "reason_too_short", "real sentence"),
        ({"groups": ["security-team", "cto", "nobody-team"]}, "unknown_group", "nobody-team"),
        ({"groups": ["security-team"]}, "invalid", "cto"),
        ({"duration": "soon"}, "invalid", "not a duration"),
    ],
)
def test_bad_input_is_refused_in_words_audited_and_creates_nothing(ask, secret_at, kwargs, why, words):
    secret = secret_at("x")
    with pytest.raises(RequestRefused) as exc:
        ask(secret, **kwargs)
    assert words in " ".join(exc.value.messages)
    assert AccessRequest.objects.count() == 0
    assert refusals() == [why]


def test_an_unknown_path_or_one_that_cannot_be_granted_is_refused(ask, alice, secret_at):
    from secrets_admin.inventory.models import Secret

    with pytest.raises(RequestRefused, match="not in the inventory"):
        requests.do_request(
            actor=alice.user,
            kind="standard",
            reason="Reading the thing for the outage now.",
            scope=["secret/nope"],
        )
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:payments/db-AbCdEf"
    in_aws = Secret.objects.create(backend="aws", path=arn, name="payments/db", kind="password")
    with pytest.raises(RequestRefused, match="cannot be granted: only OpenBao KV secrets, database roles"):
        ask(in_aws)  # see the README: no AWS engine in OpenBao, and moto cannot prove an ARN scope
    assert AccessRequest.objects.count() == 0
    assert refusals() == ["unknown_path", "not_grantable"]


def test_managers_cannot_ask(ask, frank, secret_at):
    with pytest.raises(Refused, match="Only developers"):
        ask(secret_at("x"), who=frank)


def test_an_edit_voids_the_approvals_and_changes_the_hash(ask, secret_at, carol, alice):
    access = ask(secret_at("x"))
    approve.do_approve(access.pk, actor=carol.user, code=carol.code())
    old = access.request_hash
    edited = requests.do_edit(access.pk, actor=alice.user, duration="2h")
    assert edited.request_hash != old
    assert edited.revision == 2
    assert Approval.objects.get(request=access).voided_at is not None
    assert not Approval.objects.filter(request=access, voided_at__isnull=True).exists()
    # carol may approve again: the slot is open, for the new hash
    approve.do_approve(access.pk, actor=carol.user, code=carol.code())
    assert (
        Approval.objects.filter(request=access, voided_at__isnull=True).get().request_hash
        == edited.request_hash
    )


def test_only_the_requester_edits(ask, secret_at, carol):
    access = ask(secret_at("x"))
    with pytest.raises(Refused, match="Only the person who asked"):
        requests.do_edit(access.pk, actor=carol.user, duration="2h")


def test_a_denial_is_final(ask, secret_at, carol, erin):
    access = ask(secret_at("x"))
    requests.do_deny(access.pk, actor=erin.user, note="Not without a ticket.")
    access.refresh_from_db()
    assert access.status == Status.DENIED and access.denied_by == erin.user
    with pytest.raises(Refused, match="already denied"):
        approve.do_approve(access.pk, actor=carol.user, code=carol.code())
    with pytest.raises(Refused, match="already denied"):
        requests.do_deny(access.pk, actor=carol.user)


def test_a_pending_request_expires_unapproved_and_cannot_be_approved_after(ask, secret_at, carol, settings):
    access = ask(secret_at("x"))
    later = timezone.now() + timedelta(minutes=61)
    assert requests.expire_pending(now=later) == 1
    access.refresh_from_db()
    assert access.status == Status.EXPIRED_UNAPPROVED
    assert requests.expire_pending(now=later) == 0
    with pytest.raises(Refused, match="already expired unapproved"):
        approve.do_approve(access.pk, actor=carol.user, code=carol.code())


def test_approving_past_the_window_before_beat_ran_is_refused(ask, secret_at, carol):
    access = ask(secret_at("x"))
    AccessRequest.objects.filter(pk=access.pk).update(pending_until=timezone.now() - timedelta(seconds=1))
    with pytest.raises(Refused, match="expired"):
        approve.do_approve(access.pk, actor=carol.user, code=carol.code())
    assert not Approval.objects.exists()
