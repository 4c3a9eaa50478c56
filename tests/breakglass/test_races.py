"""Races on PostgreSQL with real threads: concurrent final approvals make exactly one grant and
one OpenBao token; an approval racing a denial ends in exactly one terminal state."""

import threading
import uuid
from collections import Counter

import pytest
from django.db import connection

from breakglass.models import Approval, Grant
from breakglass.models.grant import GrantState
from breakglass.models.request import Status
from breakglass.services import approve, requests
from breakglass.services.common import Refused
from secrets_admin.accounts.stepup import StepUpFailed
from secrets_admin.roles import CTO, SECURITY_TEAM
from tests.markers import requires_postgres

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]
THREADS, TRIALS = 16, 50


def race(calls):
    """Run every call at once (a barrier), each on its own connection; returns outcomes."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait()
            call()
            outcomes[i] = "ok"
        except (Refused, StepUpFailed) as exc:
            outcomes[i] = getattr(exc, "why", None) or exc.reason
        except Exception as exc:  # surfaced by the assertion below
            outcomes[i] = f"error: {exc!r}"
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def tokens_by_request_hash(root) -> Counter:
    accessors = root.list("auth/token/accessors")["data"]["keys"]
    found = Counter()
    for accessor in accessors:
        meta = root.auth.token.lookup_accessor(accessor)["data"].get("meta") or {}
        if meta.get("request_hash"):
            found[meta["request_hash"]] += 1
    return found


def test_concurrent_final_approvals_make_exactly_one_grant_and_one_token(ask, secret_at, actor, root):
    secret = secret_at("race/db")
    hashes = []
    for trial in range(TRIALS):
        access = ask(secret, reason=f"Trial {trial} of the approval race, run {uuid.uuid4().hex}.")
        sec = actor(f"sec-{trial}", SECURITY_TEAM)  # a code of its own each trial, no 30 s wait
        approve.do_approve(access.pk, actor=sec.user, code=sec.code())
        approvers = [actor(f"cto-{trial}-{i}", CTO) for i in range(THREADS)]
        outcomes = race(
            [lambda a=a, pk=access.pk: approve.do_approve(pk, actor=a.user, code=a.code()) for a in approvers]
        )
        assert outcomes.count("ok") == 1, outcomes
        assert set(outcomes) <= {"ok", "decided", "slot_filled"}, outcomes
        access.refresh_from_db()
        assert access.status == Status.ACTIVE
        assert Grant.objects.filter(request=access).count() == 1
        assert Grant.objects.get(request=access).state == GrantState.ACTIVE
        assert Approval.objects.filter(request=access, voided_at__isnull=True).count() == 2
        hashes.append(access.request_hash)
    found = tokens_by_request_hash(root)
    assert [found[h] for h in hashes] == [1] * TRIALS


def test_an_approval_racing_a_denial_ends_in_one_terminal_state(ask, secret_at, actor):
    secret = secret_at("race/deny")
    outcomes_seen = Counter()
    for trial in range(20):
        sec = actor(f"sec-{trial}", SECURITY_TEAM)
        access = ask(secret, reason=f"Trial {trial} of approve against deny, run {uuid.uuid4().hex}.")
        approve.do_approve(access.pk, actor=sec.user, code=sec.code())
        cto, denier = actor(f"cto-{trial}", CTO), actor(f"denier-{trial}", CTO)
        outcomes = race(
            [
                lambda pk=access.pk, a=cto: approve.do_approve(pk, actor=a.user, code=a.code()),
                lambda pk=access.pk, d=denier: requests.do_deny(pk, actor=d.user, note="no"),
            ]
        )
        assert outcomes.count("ok") == 1 and "decided" in outcomes, outcomes
        access.refresh_from_db()
        if outcomes[0] == "ok":
            assert access.status == Status.ACTIVE and Grant.objects.filter(request=access).count() == 1
        else:
            assert access.status == Status.DENIED and not Grant.objects.filter(request=access).exists()
        outcomes_seen[access.status] += 1
    assert sum(outcomes_seen.values()) == 20
