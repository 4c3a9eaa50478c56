"""Email alerts through Django's SMTP backend to a real SMTP server (aiosmtpd on loopback)."""

import email
import email.policy

import pytest
from django.contrib.auth.models import Group, User

from secrets_admin.alerts.transports.email import EmailTransport
from tests.alerts.conftest import deliver_due, email_texts
from tests.alerts.contract import SUBJECT, ChannelContract, raise_failed


class TestEmailChannel(ChannelContract):
    permanent_reason = "550"

    @pytest.fixture
    def receiver(self, smtp):
        return smtp

    @pytest.fixture
    def channel(self, make_channel, smtp):
        return make_channel("email", "Security email", config={"addresses": ["security@candlefish.example"]})

    def texts(self, receiver):
        return email_texts(receiver)

    def refuse_temporarily(self, receiver, times):
        receiver.refuse("451 4.3.0 Mailbox temporarily unavailable", times=times)

    def refuse_permanently(self, receiver):
        receiver.refuse("550 5.1.1 No such user here")


@pytest.mark.django_db
def test_an_alert_mail_has_subject_text_and_html_and_goes_to_the_groups_members(make_channel, smtp):
    dave = User.objects.create_user("dave", "dave@candlefish.example", "a-long-test-password")
    dave.groups.add(Group.objects.get(name="security-team"))
    User.objects.create_user("nomail", "", "a-long-test-password").groups.add(
        Group.objects.get(name="security-team")
    )
    make_channel("email", config={"addresses": ["oncall@candlefish.example"], "groups": ["security-team"]})

    raise_failed(severity="critical")
    deliver_due()

    (envelope,) = smtp.messages
    assert sorted(envelope.rcpt_tos) == ["dave@candlefish.example", "oncall@candlefish.example"]
    message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
    assert message["Subject"] == f"[Candlefish] [CRITICAL] {SUBJECT}"
    assert message["X-Candlefish-Alert"] == "rotation.failed:test-secret"
    assert message["Auto-Submitted"] == "auto-generated"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Severity:  critical" in text and "step: test" in text
    assert f"<h1>[CRITICAL] {SUBJECT}</h1>" in html and '<th align="left">run</th><td>7</td>' in html


@pytest.mark.django_db
def test_a_channel_with_nobody_to_mail_fails_permanently_and_is_disabled(make_channel, smtp):
    channel = make_channel("email", config={"groups": ["cto"]})  # the group has nobody in it
    raise_failed()
    deliver_due()
    channel.refresh_from_db()
    assert not channel.enabled and "nobody to send to" in channel.disabled_reason
    assert smtp.messages == []


@pytest.mark.django_db
def test_an_unreachable_mail_server_is_a_temporary_error(settings, make_channel):
    from console.stack.servers import free_port

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    channel = make_channel("email", config={"addresses": ["a@candlefish.example"]})
    raise_failed()
    (outcome,) = deliver_due()
    assert outcome.status == "retrying" and "could not reach the mail server" in outcome.error
    channel.refresh_from_db()
    assert channel.enabled


def test_email_settings_are_checked():
    from django.core.exceptions import ValidationError

    assert EmailTransport.clean_config({"addresses": [" a@b.example ", ""], "groups": ["managers"]}) == {
        "addresses": ["a@b.example"],
        "groups": ["managers"],
    }
    for bad, message in (
        ({"addresses": ["not-an-address"]}, "is not an email address"),
        ({"groups": ["admins"]}, "Unknown groups: admins"),
        ({}, "at least one address or group"),
    ):
        with pytest.raises(ValidationError, match=message):
            EmailTransport.clean_config(bad)
