"""Alerts pages: who sees what, forms that say what to fix, and secrets never rendered."""

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse

from secrets_admin.alerts import events
from secrets_admin.alerts.models import Alert, Channel, Delivery, Route
from secrets_admin.alerts.services import raise_alert
from secrets_admin.alerts.services.delivery import disable_channel
from tests.accounts.factories import code_at_step, make_device, verified_client

pytestmark = pytest.mark.django_db
HOOK = "https://hooks.slack.com/services/T0PAGE/B0PAGE/pageS3cr3tT0k3nQQ7w"


def member(username, group):
    user = User.objects.create_user(username, f"{username}@candlefish.example", "a-long-test-password")
    user.groups.add(Group.objects.get(name=group))
    return verified_client(user, make_device(user))


def test_the_alerts_page_lists_channels_routing_alerts_and_deliveries(make_channel):
    slack = make_channel("slack", "Sec Slack", secret=HOOK, severities=["warning", "critical"])
    alert = raise_alert(
        events.BACKEND_UNAVAILABLE, key="backend.unavailable:vault", subject="Secret backend vault is sealed"
    )
    client = member("erin", "cto")

    page = client.get(reverse("alerts:index")).content.decode()

    assert "Sec Slack" in page and "hooks.slack.com …QQ7w" in page
    assert "Secret backend vault is sealed" in page and f'href="/alerts/{alert.pk}/"' in page
    assert "pageS3cr3t" not in page and "T0PAGE" not in page
    assert "Add Slack channel" not in page and "Edit routing" not in page  # the CTO reads
    assert Delivery.objects.filter(channel=slack).count() == 1


def test_a_security_engineer_adds_a_channel_and_its_url_is_never_shown_again(security_person):
    user, device, client = security_person
    response = client.post(
        reverse("alerts:channel_create", args=["slack"]),
        {"name": "Sec Slack", "secret": HOOK, "otp_code": code_at_step(device, 0)},
    )
    channel = Channel.objects.get(name="Sec Slack")
    assert response.status_code == 302 and response["Location"] == reverse(
        "alerts:channel", args=[channel.pk]
    )
    for url in (
        reverse("alerts:channel", args=[channel.pk]),
        reverse("alerts:channel_edit", args=[channel.pk]),
        "/alerts/",
    ):
        page = client.get(url).content.decode()
        assert "hooks.slack.com …QQ7w" in page and "pageS3cr3t" not in page, url


def test_a_bad_channel_form_says_what_to_fix_and_saves_nothing(security_person):
    _, device, client = security_person
    response = client.post(
        reverse("alerts:channel_create", args=["slack"]),
        {"name": "Sec Slack", "secret": "http://hooks.slack.com/x", "otp_code": code_at_step(device, 0)},
    )
    assert response.status_code == 400
    assert "must use https://" in response.content.decode()
    assert not Channel.objects.filter(name="Sec Slack").exists()
    assert 'value="http://hooks.slack.com/x"' not in response.content.decode()  # not echoed either

    response = client.post(
        reverse("alerts:channel_create", args=["slack"]),
        {"name": "Sec Slack", "secret": HOOK, "otp_code": "000000"},
    )
    assert response.status_code == 400 and "That code is not right" in response.content.decode()
    assert not Channel.objects.filter(name="Sec Slack").exists()


def test_an_unknown_channel_kind_is_404(security_person):
    assert security_person[2].get("/alerts/channels/new/carrier-pigeon/").status_code == 404


def test_editing_a_disabled_channel_explains_and_re_enables_it(security_person, make_channel):
    _, device, client = security_person
    channel = make_channel("slack", "Sec Slack", secret=HOOK)
    disable_channel(channel, reason="Slack answered 404 no_service")
    edit = reverse("alerts:channel_edit", args=[channel.pk])
    assert "Disabled after: Slack answered 404 no_service" in client.get(edit).content.decode()

    response = client.post(edit, {"name": "Sec Slack", "enabled": "on", "otp_code": code_at_step(device, 0)})

    assert response.status_code == 302
    channel.refresh_from_db()
    assert channel.enabled and channel.transport().secret == HOOK  # empty secret field: kept
    assert "is disabled" not in client.get("/alerts/").content.decode()


def test_an_email_channel_is_edited_with_addresses_and_groups(security_person):
    _, device, client = security_person
    channel = Channel.objects.get(name="Security team email")
    response = client.post(
        reverse("alerts:channel_edit", args=[channel.pk]),
        {
            "name": "Security team email",
            "addresses": "oncall@candlefish.example, sre@candlefish.example",
            "groups": ["security-team", "cto"],
            "enabled": "on",
            "otp_code": code_at_step(device, 0),
        },
    )
    assert response.status_code == 302
    channel.refresh_from_db()
    assert channel.config == {
        "addresses": ["oncall@candlefish.example", "sre@candlefish.example"],
        "groups": ["cto", "security-team"],
    }


def test_the_routing_page_saves_the_whole_table(security_person, make_channel):
    _, device, client = security_person
    email = make_channel("email", "Mail", config={"groups": ["security-team"]})
    slack = make_channel("slack", "Slack", secret=HOOK, severities=["warning", "critical"])
    form = {
        f"route_{slack.pk}_critical": "on",
        f"route_{email.pk}_info": "on",
        "otp_code": code_at_step(device, 0),
    }

    response = client.post(reverse("alerts:routing"), form)

    assert response.status_code == 302
    assert set(Route.objects.values_list("channel__name", "severity")) == {
        ("Slack", "critical"),
        ("Mail", "info"),
    }
    page = client.get(reverse("alerts:routing")).content.decode()
    assert (
        f'name="route_{slack.pk}_critical" class="form-check-input" id="id_route_{slack.pk}_critical" checked'
        in page
    )


def test_send_test_alert_queues_one_delivery_to_that_channel(security_person, make_channel):
    channel = make_channel("slack", "Sec Slack", secret=HOOK)
    response = security_person[2].post(reverse("alerts:channel_test", args=[channel.pk]))
    assert response.status_code == 302
    (delivery,) = Delivery.objects.all()
    assert delivery.channel == channel and delivery.alert.event == "alerts.test"


def test_the_alert_page_shows_facts_deliveries_and_links_to_the_secret(canary_secret, make_channel):
    secret, canary = canary_secret
    make_channel("email", config={"addresses": ["a@candlefish.example"]})
    alert = raise_alert(
        events.ROTATION_FAILED, target=secret, subject="Rotation failed", facts={"step": "set"}
    )
    page = member("frank", "managers").get(reverse("alerts:alert", args=[alert.pk])).content.decode()
    assert "Rotation failed" in page and '<dd class="col-sm-9 text-break">set</dd>' in page
    assert f'href="/inventory/{secret.pk}/"' in page and "Pending" in page
    assert canary not in page


def test_developers_may_not_see_alerts():
    assert member("alice", "developers").get("/alerts/").status_code == 403
    assert Alert.objects.count() == 0
