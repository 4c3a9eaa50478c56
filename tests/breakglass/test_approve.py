"""Approvals: one fresh code per slot, bound to the request hash; never the requester (also in
the database); one slot per person; replayed codes and codes for another request refused."""

import pytest
from django.db import IntegrityError, transaction

from breakglass.models import Approval, Grant
from breakglass.models.request import Status
from breakglass.services import approve
from breakglass.services.common import Refused
from secrets_admin.accounts.models import UsedCode
from secrets_admin.accounts.stepup import StepUpFailed
from secrets_admin.audit.models import AuditEntry
from secrets_admin.roles import CTO, SECURITY_TEAM

pytestmark = pytest.mark.django_db


def test_self_approval_is_refused_by_the_service(actor, secret_at, ask):
    both = actor("sam", SECURITY_TEAM)
    access = ask(secret_at("x"), who=both, kind="standard")
    with pytest.raises(Refused, match="your own request"):
        approve.do_approve(access.pk, actor=both.user, code=both.code())
    assert not Approval.objects.exists()
    assert AuditEntry.objects.filter(action="breakglass.refused", data__why="self").count() == 1


def test_the_database_refuses_self_approval_when_the_service_is_bypassed(ask, secret_at, alice):
    access = ask(secret_at("x"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Approval.objects.create(
            request=access,
            group=SECURITY_TEAM,
            approver=alice.user,
            approver_name="alice",
            request_hash=access.request_hash,
        )
    assert not Approval.objects.exists()


def test_the_database_refuses_one_person_in_two_slots(ask, secret_at, actor):
    both = actor("bea", SECURITY_TEAM, CTO)
    access = ask(secret_at("x"))
    Approval.objects.create(
        request=access, group=SECURITY_TEAM, approver=both.user, approver_name="bea", request_hash="h"
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Approval.objects.create(
            request=access, group=CTO, approver=both.user, approver_name="bea", request_hash="h"
        )


def test_a_person_in_both_groups_fills_only_one_slot(ask, secret_at, actor):
    both = actor("bea", SECURITY_TEAM, CTO)
    access = ask(secret_at("x"))
    approve.do_approve(access.pk, actor=both.user, code=both.code())
    with pytest.raises(Refused, match="already approved"):
        approve.do_approve(access.pk, actor=both.user, code=both.code())
    assert list(Approval.objects.values_list("group", flat=True)) == [SECURITY_TEAM]
    access.refresh_from_db()
    assert access.status == Status.PENDING


def test_an_approver_outside_the_groups_is_refused(ask, secret_at, frank, actor):
    access = ask(secret_at("x"))
    with pytest.raises(Refused, match="Only members of"):
        approve.do_approve(access.pk, actor=frank.user, code=frank.code())
    second = actor("sid", SECURITY_TEAM)
    carol = actor("carol2", SECURITY_TEAM)
    approve.do_approve(access.pk, actor=carol.user, code=carol.code())
    with pytest.raises(Refused, match="slot is already filled"):
        approve.do_approve(access.pk, actor=second.user, code=second.code())


def test_the_code_is_bound_to_the_request_hash_and_kept_as_proof(ask, secret_at, carol):
    access = ask(secret_at("x"))
    approve.do_approve(access.pk, actor=carol.user, code=carol.code())
    approval = Approval.objects.get()
    assert approval.used_code.purpose == f"breakglass.approve:{access.request_hash}"
    assert approval.request_hash == access.request_hash


def test_a_replayed_code_or_a_code_spent_on_another_request_is_refused(ask, secret_at, carol):
    first, second = ask(secret_at("x")), ask(secret_at("y"))
    code = carol.code()
    approve.do_approve(first.pk, actor=carol.user, code=code)
    with pytest.raises(StepUpFailed) as exc:
        approve.do_approve(second.pk, actor=carol.user, code=code)
    assert exc.value.reason == "reused"
    assert list(UsedCode.objects.values_list("purpose", flat=True)) == [
        f"breakglass.approve:{first.request_hash}"
    ]
    assert not Approval.objects.filter(request=second).exists()


def test_a_wrong_code_is_refused_and_nothing_is_approved(ask, secret_at, carol):
    access = ask(secret_at("x"))
    with pytest.raises(StepUpFailed):
        approve.do_approve(
            access.pk, actor=carol.user, code="000000" if carol.code() != "000000" else "111111"
        )
    assert not Approval.objects.exists()


def test_approving_what_was_edited_since_the_page_was_read_is_refused(ask, secret_at, carol, alice):
    from breakglass.services.requests import do_edit

    access = ask(secret_at("x"))
    seen = access.request_hash
    do_edit(access.pk, actor=alice.user, duration="1h")
    with pytest.raises(Refused, match="edited after you opened it"):
        approve.do_approve(access.pk, actor=carol.user, code=carol.code(), seen_hash=seen)
    assert not Approval.objects.exists()


def test_the_first_approval_grants_nothing(ask, secret_at, carol):
    access = ask(secret_at("x"))
    approve.do_approve(access.pk, actor=carol.user, code=carol.code())
    access.refresh_from_db()
    assert access.status == Status.PENDING and not Grant.objects.exists()
