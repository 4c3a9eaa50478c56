"""After the glass: secrets read during a break-glass grant rotate ("assume breach"), a review
opens and escalates when unsigned; notifications say what happened and link, never approve."""

from datetime import timedelta

import hvac
import pytest
from django.core import mail
from django.utils import timezone

from breakglass import tasks
from breakglass.models import BreachRotation, Grant, IncidentReview
from breakglass.services import after, approve, grants, recording
from breakglass.services.common import Refused
from secrets_admin.alerts.models import Alert

pytestmark = pytest.mark.django_db


@pytest.fixture
def broken(ask, secret_at, carol, erin, alice, openbao, kv_prefix, django_capture_on_commit_callbacks):
    """A break-glass grant over two secrets whose token read one of them, then ended (what each
    step hands to after its commit runs, as it would outside the test's transaction)."""

    def make(kind="break_glass"):
        with django_capture_on_commit_callbacks(execute=True):
            return _make(kind)

    def _make(kind):
        read, untouched = (
            secret_at("payments/db", kind="api_key"),
            secret_at("payments/other", kind="api_key"),
        )
        access = ask(read, untouched, kind=kind)
        approve.do_approve(access.pk, actor=carol.user, code=carol.code())
        access.refresh_from_db()
        if access.status == "pending":
            approve.do_approve(access.pk, actor=erin.user, code=erin.code())
        grant = Grant.objects.get(request=access)
        token = grants.do_reveal(grant.pk, actor=alice.user, code=alice.code())
        hvac.Client(url=openbao.url, token=token).secrets.kv.v2.read_secret_version(
            path=f"{kv_prefix}/payments/db", mount_point="secret", raise_on_deleted_version=True
        )
        recording.read_audit_log(str(openbao.audit_log))
        grants.end(grant, actor="test", why="expired")
        grant.refresh_from_db()
        return grant, read, untouched

    return make


def test_each_secret_read_during_break_glass_is_rotated_by_the_engine(broken):
    from secrets_admin.rotation.models import RotationRun

    grant, read, untouched = broken()
    job = BreachRotation.objects.get(grant=grant)
    assert job.secret == read and job.state == BreachRotation.STARTED
    run = RotationRun.objects.get(pk=job.run_id)
    assert run.secret == read and run.reason == "assume-breach"
    assert not BreachRotation.objects.filter(secret=untouched).exists()


def test_everyday_access_rotates_nothing_and_opens_no_review(broken):
    grant, _, _ = broken(kind="standard")
    assert not BreachRotation.objects.exists() and not IncidentReview.objects.exists()


def test_the_review_needs_notes_a_code_and_someone_else(broken, carol, alice, actor):
    from secrets_admin.roles import SECURITY_TEAM

    grant, _, _ = broken()
    review = IncidentReview.objects.get(grant=grant)
    with pytest.raises(Refused, match="notes"):
        after.do_sign_off(review.pk, actor=carol.user, code=carol.code())
    after.do_review_notes(
        review.pk, actor=carol.user, notes="Alice read the ledger password to fix payments."
    )
    with pytest.raises(Refused, match="Only the security team"):
        after.do_sign_off(review.pk, actor=alice.user, code=alice.code())
    after.do_sign_off(review.pk, actor=carol.user, code=carol.code())
    review.refresh_from_db()
    assert review.signed_off_by_name == "carol" and review.signed_off_at
    with pytest.raises(Refused, match="already signed off"):
        after.do_sign_off(review.pk, actor=actor("dan", SECURITY_TEAM).user, code="123456")


def test_an_unsigned_review_escalates_once_after_three_days(broken):
    grant, _, _ = broken()
    review = IncidentReview.objects.get(grant=grant)
    assert after.escalate_reviews() == 0
    later = timezone.now() + timedelta(days=3, minutes=1)
    assert after.escalate_reviews(now=later) == 1
    assert after.escalate_reviews(now=later) == 0
    alert = Alert.objects.get(event="breakglass.review_overdue")
    assert alert.key == f"breakglass.review_overdue:{review.pk}" and "/evidence/" in alert.facts["link"]


def test_requests_and_activations_raise_alerts_with_links(broken):
    """What the breakglass.notify task runs (tests/breakglass/test_notify_worker.py runs it on a
    real worker through to Slack and PagerDuty)."""
    from breakglass import notify

    grant, _, _ = broken()
    notify.requested(grant.request_id)
    notify.decided(grant.request_id)
    notify.activated(grant.pk)
    requested = Alert.objects.get(event="breakglass.requested")
    assert requested.severity == "warning" and requested.state == "resolved"  # decided: resolved
    assert requested.facts["link"].endswith(f"/access/{grant.request_id}/")
    activated = Alert.objects.get(event="breakglass.activated")
    assert activated.severity == "critical" and activated.facts["link"].endswith(
        f"/access/grants/{grant.pk}/"
    )


def test_approvers_and_then_the_requester_get_mail_with_a_deep_link(ask, secret_at, erin):
    access = ask(secret_at("x"))
    assert tasks.send_mail("requested", access.pk) == 1
    message = mail.outbox[-1]
    assert sorted(message.to) == ["carol@candlefish.example", "erin@candlefish.example"] or set(
        message.to
    ) >= {"erin@candlefish.example"}
    assert "alice@candlefish.example" not in message.to
    assert f"/access/{access.pk}/" in message.body and "cannot approve" in message.body
    from breakglass.services.requests import do_deny

    do_deny(access.pk, actor=erin.user, note="Use the staging copy.")
    tasks.send_mail("decided", access.pk)
    assert mail.outbox[-1].to == ["alice@candlefish.example"] and "denied" in mail.outbox[-1].subject
