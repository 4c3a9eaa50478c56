"""The contract every alert channel keeps, written once and run against each kind
(tests/alerts/test_email.py, test_slack.py, test_pagerduty.py).

A subclass provides two fixtures and three methods:
    channel                -> an enabled Channel of its kind, routed for every severity, aimed at
    receiver               -> the local receiver standing in for the service
    texts(receiver)        -> every message the receiver got, decoded to text, oldest first
    refuse_temporarily(receiver, times) / refuse_permanently(receiver)
The delivery path is the real one (transport, HTTP/SMTP on loopback); only the Celery hop is
replaced by `deliver_due()`, which calls the same service the worker task calls.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from secrets_admin.alerts import events
from secrets_admin.alerts.models import Alert, Channel, Delivery
from secrets_admin.alerts.services import raise_alert, resolve_alert
from secrets_admin.alerts.services.channels import do_send_test
from tests.accounts.factories import actions
from tests.alerts.conftest import deliver_due, email_texts, let_backoff_pass

SUBJECT = "Rotation of secret/payments/stripe failed at step test"


def raise_failed(key="rotation.failed:test-secret", severity=None, **kwargs):
    return raise_alert(
        events.ROTATION_FAILED,
        key=key,
        subject=SUBJECT,
        facts={"step": "test", "run": 7},
        severity=severity,
        **kwargs,
    )


@pytest.mark.django_db
class ChannelContract:
    permanent_reason = ""  # words the disabled reason must contain

    def texts(self, receiver) -> list[str]:
        raise NotImplementedError

    def refuse_temporarily(self, receiver, times: int):
        raise NotImplementedError

    def refuse_permanently(self, receiver):
        raise NotImplementedError

    def test_a_raised_alert_reaches_the_service_and_the_delivery_is_recorded(self, channel, receiver):
        alert = raise_failed()

        assert [o.status for o in deliver_due()] == ["sent"]
        delivery = Delivery.objects.get(alert=alert, channel=channel)
        assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 1, "")
        assert delivery.finished_at is not None
        texts = self.texts(receiver)
        assert len(texts) == 1 and SUBJECT in texts[0]
        assert reverse("alerts:alert", args=[alert.pk]) in texts[0]  # a deep link back to the console
        assert actions(target_id=str(alert.pk)) == ["alerts.alert.raised", "alerts.delivery.sent"]
        assert Channel.objects.get(pk=channel.pk).last_sent_at is not None

    def test_raising_an_open_condition_again_sends_nothing_more(self, channel, receiver):
        for _ in range(3):
            raise_failed()
            deliver_due()

        alert = Alert.objects.get(key="rotation.failed:test-secret")
        assert alert.raise_count == 3 and alert.state == "open"
        assert alert.deliveries.count() == 1
        assert len(self.texts(receiver)) == 1

    def test_a_rise_in_severity_is_sent_again_at_once(self, channel, receiver):
        raise_failed(severity="warning")
        deliver_due()
        raise_failed(severity="critical")
        deliver_due()

        texts = self.texts(receiver)
        assert len(texts) == 2 and "critical" in texts[1].lower()
        assert list(Alert.objects.get().deliveries.order_by("pk").values_list("severity", "escalated")) == [
            ("warning", False),
            ("critical", True),
        ]

    def test_an_alert_still_open_after_the_renotify_interval_is_sent_again(self, settings, channel, receiver):
        settings.ALERTS_RENOTIFY_HOURS = 24
        alert = raise_failed()
        deliver_due()
        Alert.objects.filter(pk=alert.pk).update(notified_at=timezone.now() - timedelta(hours=25))
        raise_failed()
        deliver_due()
        raise_failed()  # the reminder reset the clock
        deliver_due()

        assert len(self.texts(receiver)) == 2
        assert "alerts.alert.renotified" in actions(target_id=str(alert.pk))

    def test_resolving_the_condition_tells_the_service(self, channel, receiver):
        alert = raise_failed()
        deliver_due()
        resolved = resolve_alert("rotation.failed:test-secret")
        assert [o.status for o in deliver_due()] == ["sent"]

        assert resolved.pk == alert.pk and resolved.state == "resolved" and resolved.resolved_by == "alerts"
        texts = self.texts(receiver)
        assert len(texts) == 2 and "resolve" in texts[1].lower()
        assert resolve_alert("rotation.failed:test-secret") is None  # nothing open: idempotent

    def test_a_condition_that_clears_before_it_was_sent_sends_nothing(self, channel, receiver):
        raise_failed()
        resolve_alert("rotation.failed:test-secret")
        deliver_due()

        assert self.texts(receiver) == []
        statuses = dict(Alert.objects.get().deliveries.values_list("action", "status"))
        assert statuses == {"trigger": "skipped", "resolve": "skipped"}

    def test_a_temporary_error_is_retried_with_back_off_then_sent(self, channel, receiver):
        self.refuse_temporarily(receiver, times=1)
        alert = raise_failed()

        assert [o.status for o in deliver_due()] == ["retrying"]
        delivery = alert.deliveries.get()
        assert delivery.status == "retrying" and delivery.attempts == 1 and delivery.last_error
        wait = (delivery.next_attempt_at - timezone.now()).total_seconds()
        assert 25 < wait <= 30  # ALERTS_RETRY_SECONDS after the first failure
        assert deliver_due() == []  # not due yet

        let_backoff_pass()
        assert [o.status for o in deliver_due()] == ["sent"]
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == ("sent", 2)
        assert Channel.objects.get(pk=channel.pk).enabled

    def test_retries_are_bounded_and_the_failure_is_recorded(self, settings, channel, receiver):
        settings.ALERTS_MAX_ATTEMPTS = 3
        self.refuse_temporarily(receiver, times=10)
        alert = raise_failed()
        waits = []
        for _ in range(5):
            for outcome in deliver_due():
                waits.append(outcome.retry_in)
            let_backoff_pass()

        delivery = alert.deliveries.get()
        assert (delivery.status, delivery.attempts) == ("failed", 3)
        assert waits == [30, 60, None]  # doubling back-off, then give up
        assert "alerts.delivery.failed" in actions(target_id=str(alert.pk))
        assert Channel.objects.get(pk=channel.pk).enabled  # temporary errors never disable

    def test_a_permanent_error_disables_the_channel_and_alerts_the_others(
        self, channel, receiver, make_channel, smtp, security_person
    ):
        other = make_channel(
            "email",
            "Other team email",
            config={"addresses": ["oncall@candlefish.example"]},
            severities=["warning"],
        )
        self.refuse_permanently(receiver)
        raise_failed(severity="critical")  # only `channel` is routed for critical
        deliver_due()

        channel.refresh_from_db()
        assert not channel.enabled and channel.disabled_at is not None
        assert self.permanent_reason in channel.disabled_reason
        delivery = Delivery.objects.get(channel=channel)
        assert (delivery.status, delivery.attempts) == ("failed", 1)  # no retry for a refusal
        assert actions(action="alerts.channel.disabled", target_id=str(channel.pk)) == [
            "alerts.channel.disabled"
        ]
        disabled = Alert.objects.get(event=events.CHANNEL_DISABLED)
        assert disabled.state == "open" and disabled.target_id == str(channel.pk)
        assert Delivery.objects.filter(alert=disabled, channel=other, status="sent").exists()
        assert any(f"“{channel.name}” was disabled" in text for text in email_texts(smtp))

        raise_failed(key="another-condition", severity="critical")
        deliver_due()
        assert not Delivery.objects.filter(channel=channel, alert__key="another-condition").exists()

        _, _, client = security_person
        page = client.get(reverse("home")).content.decode()  # the banner is on every page
        assert f"Alert channel “{channel.name}” is disabled" in page and self.permanent_reason in page

    def test_send_test_alert_reaches_the_service(self, channel, receiver, security_person):
        user, _, _ = security_person
        alert = do_send_test(channel.pk, actor=user)
        assert [o.status for o in deliver_due()] == ["sent"]

        assert alert.event == "alerts.test" and alert.state == "resolved"
        assert "test alert" in self.texts(receiver)[0].lower()
        assert actions(action="alerts.test.requested") == ["alerts.test.requested"]

    def test_no_payload_holds_a_secret_value(self, channel, receiver, canary_secret, security_person):
        secret, canary = canary_secret
        raise_alert(
            events.ROTATION_FAILED,
            target=secret,
            subject=f"Rotation of {secret.path} failed at step set",
            facts={"backend": secret.backend, "path": secret.path, "step": "set", "owner": secret.owner_team},
        )
        raise_alert(events.ROTATION_RETRIES_EXHAUSTED, target=secret, subject=f"{secret.path} needs a person")
        deliver_due()
        resolve_alert(f"rotation.failed:inventory.secret:{secret.pk}")
        do_send_test(channel.pk, actor=security_person[0])
        deliver_due()

        texts = self.texts(receiver)
        assert len(texts) == 4 and secret.path in texts[0] and secret.path in texts[1]  # about it...
        assert canary not in "\n".join(texts)  # ...and never carry its value
        assert canary.encode() not in receiver.raw()
