"""verify_step_up: one code, once, for one purpose; failures throttled and audited."""

import threading
import time

import pytest
from django.db import connection, transaction
from django.utils import timezone

from secrets_admin.accounts.models import AuthenticatorDevice, UsedCode
from secrets_admin.accounts.stepup import StepUpFailed, flush_step_up_failures, verify_step_up
from secrets_admin.audit.models import AuditEntry
from tests.accounts.factories import actions, code_at_step, last_entry, make_device, totp_for
from tests.markers import requires_postgres


@pytest.fixture
def carol(django_user_model):
    return django_user_model.objects.create_user("carol")


def step_up(user, code, purpose):
    with transaction.atomic():
        verify_step_up(user, code, purpose=purpose)


def refused(user, code, purpose) -> StepUpFailed:
    with pytest.raises(StepUpFailed) as info:
        step_up(user, code, purpose)
    flush_step_up_failures()
    return info.value


@pytest.mark.django_db
def test_a_code_authorises_one_action_and_is_recorded_with_its_purpose(carol):
    device = make_device(carol)
    step_up(carol, totp_for(device).now(), "breakglass.approve:abc123")
    used = UsedCode.objects.get(device=device)
    assert used.purpose == "breakglass.approve:abc123"
    assert last_entry("mfa.stepup.verified").data == {"purpose": "breakglass.approve:abc123"}


@pytest.mark.django_db
def test_the_same_code_is_refused_a_second_time_for_the_same_purpose(carol):
    device = make_device(carol)
    code = code_at_step(device, 0)
    step_up(carol, code, "rotate:1")
    exc = refused(carol, code, "rotate:1")
    assert exc.reason == "reused" and "already used" in exc.messages[0]
    assert UsedCode.objects.count() == 1
    assert last_entry("mfa.code.failed").data == {"purpose": "rotate:1", "reason": "reused", "step_up": True}


@pytest.mark.django_db
def test_a_code_bound_to_one_purpose_cannot_serve_another(carol):
    device = make_device(carol)
    code = code_at_step(device, 0)
    step_up(carol, code, "breakglass.approve:request-1")
    exc = refused(carol, code, "breakglass.approve:request-2")
    assert exc.reason == "reused"
    assert list(UsedCode.objects.values_list("purpose", flat=True)) == ["breakglass.approve:request-1"]
    # the refused reuse counts as a failure (1 s back-off); then the next code works for action 2
    time.sleep(1.1)
    step_up(carol, code_at_step(device, 1), "breakglass.approve:request-2")
    assert UsedCode.objects.count() == 2


@pytest.mark.django_db
def test_a_wrong_code_rolls_back_with_the_caller_but_still_counts_and_is_audited(carol, settings):
    device = make_device(carol)
    wrong = "123456" if totp_for(device).now() != "123456" else "654321"
    exc = refused(carol, wrong, "policy.edit:7")
    assert exc.reason == "wrong"
    device.refresh_from_db()
    assert device.throttling_failure_count == 1  # re-applied after the caller's rollback
    assert last_entry("mfa.code.failed").data == {
        "purpose": "policy.edit:7",
        "reason": "wrong",
        "step_up": True,
    }

    exc = refused(carol, totp_for(device).now(), "policy.edit:7")  # right code, inside the back-off
    assert exc.reason == "throttled" and "Wait" in exc.messages[0]
    assert not UsedCode.objects.exists()

    time.sleep(settings.OTP_THROTTLE_FACTOR + 0.2)  # back-off: 1 s after one failure
    step_up(carol, totp_for(device).now(), "policy.edit:7")
    device.refresh_from_db()
    assert device.throttling_failure_count == 0


@pytest.mark.django_db
def test_back_off_doubles_with_each_failure(carol):
    device = make_device(carol)
    wrong = "123456" if totp_for(device).now() != "123456" else "654321"
    for _ in range(3):
        device.refresh_from_db()
        allowed, _info = device.verify_is_allowed()
        if not allowed:
            time.sleep((_info["locked_until"] - timezone.now()).total_seconds() + 0.05)
        refused(carol, wrong, "x")
    device.refresh_from_db()
    allowed, info = device.verify_is_allowed()
    assert device.throttling_failure_count == 3 and not allowed
    assert (info["locked_until"] - device.throttling_failure_timestamp).total_seconds() == 4


@pytest.mark.django_db
def test_users_without_an_authenticator_are_told_to_set_one_up(carol):
    exc = refused(carol, "123456", "group.member.added:1:2")
    assert exc.reason == "no_device" and "/accounts/mfa/" in exc.messages[0]
    assert last_entry("mfa.code.failed").data["reason"] == "no_device"


@pytest.mark.django_db
def test_a_pending_device_does_not_count(carol):
    device = make_device(carol, confirmed=False)
    assert refused(carol, totp_for(device).now(), "x").reason == "no_device"


@pytest.mark.django_db
def test_malformed_codes_are_refused_with_a_clear_message(carol):
    make_device(carol)
    exc = refused(carol, "12ab56", "x")
    assert exc.reason == "malformed" and "6-digit" in exc.messages[0]


@pytest.mark.django_db(transaction=True)  # a plain test is itself inside an atomic block
def test_it_must_run_inside_the_callers_transaction(carol):
    device = make_device(carol)
    with pytest.raises(RuntimeError):
        verify_step_up(carol, totp_for(device).now(), purpose="x")
    assert not UsedCode.objects.exists()


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_eight_concurrent_submissions_of_one_code_accept_exactly_one(carol):
    device = make_device(carol)
    code = code_at_step(device, 0)
    barrier = threading.Barrier(8)
    results = []

    def submit(i):
        try:
            barrier.wait()
            step_up(carol, code, f"concurrent:{i}")
            results.append("ok")
        except StepUpFailed as exc:
            results.append(exc.reason)
        finally:
            flush_step_up_failures()
            connection.close()

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results).count("ok") == 1, results
    assert set(results) - {"ok"} <= {"reused"}
    assert UsedCode.objects.count() == 1
    assert AuditEntry.objects.filter(action="mfa.stepup.verified").count() == 1
    assert actions().count("mfa.code.failed") == 7
    assert AuthenticatorDevice.objects.get(pk=device.pk).last_t == UsedCode.objects.get().step
