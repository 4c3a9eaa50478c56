"""Channel and routing edits: security team, one-time code, audited; secrets encrypted at rest
and never shown again; bad input changes nothing."""

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection

from secrets_admin.accounts import crypto
from secrets_admin.accounts.stepup import StepUpFailed
from secrets_admin.alerts import events
from secrets_admin.alerts.models import Alert, Channel, Route
from secrets_admin.alerts.services import raise_alert
from secrets_admin.alerts.services.channels import do_create_channel, do_update_channel, do_update_routing
from secrets_admin.alerts.services.delivery import disable_channel
from secrets_admin.audit.models import AuditEntry
from tests.accounts.factories import code_at_step, last_entry
from tests.alerts.conftest import ROUTING_KEY

pytestmark = pytest.mark.django_db
HOOK = "https://hooks.slack.com/services/T0CANDLE/B0FISH/s3cr3tW3bh00kT0k3nZZ9q"


def db_dump() -> str:
    parts = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 (our table names)
            parts.append("\n".join(repr(row) for row in cursor.fetchall()))
    return "\n".join(parts)


def test_a_new_channel_keeps_its_webhook_url_only_encrypted_and_shows_a_hint(security_person):
    user, device, _ = security_person
    channel = do_create_channel(
        actor=user, otp=code_at_step(device, 0), kind="slack", name="Sec Slack", secret=HOOK
    )

    channel.refresh_from_db()
    assert channel.secret_hint == "hooks.slack.com …ZZ9q"
    assert crypto.decrypt(channel.encrypted_secret).decode() == HOOK
    assert channel.transport().secret == HOOK
    dump = db_dump()
    assert "s3cr3tW3bh00kT0k3n" not in dump and "T0CANDLE" not in dump  # not in any table, audit included
    assert sorted(Route.objects.filter(channel=channel).values_list("severity", flat=True)) == [
        "critical",
        "warning",
    ]
    entry = last_entry("alerts.channel.created")
    assert entry.actor_name == "carol" and entry.data["kind"] == "slack"
    assert entry.data["severities"] == ["warning", "critical"]


def test_a_routing_key_is_encrypted_at_rest_too(security_person):
    user, device, _ = security_person
    do_create_channel(
        actor=user, otp=code_at_step(device, 0), kind="pagerduty", name="PD", secret=ROUTING_KEY
    )
    assert ROUTING_KEY not in db_dump()


@pytest.mark.parametrize(
    ("kind", "name", "secret", "config", "message"),
    [
        ("slack", "S", "http://hooks.slack.com/x", None, "must use https"),
        ("slack", "S", "", None, "Enter the webhook url"),
        ("pagerduty", "P", "not a key", None, "routing key is 32"),
        ("email", "E", "", {"addresses": ["nope"]}, "not an email address"),
        ("sms", "X", "", None, "Choose one of"),
        ("email", " ", "", {"groups": ["cto"]}, "Give the channel a name"),
    ],
)
def test_bad_channel_input_is_refused_before_the_code_is_spent(
    security_person, kind, name, secret, config, message
):
    user, device, _ = security_person
    code = code_at_step(device, 0)
    with pytest.raises(ValidationError, match=message):
        do_create_channel(actor=user, otp=code, kind=kind, name=name, secret=secret, config=config)
    assert Channel.objects.count() == 1  # only the default email channel
    # The same code still works: nothing was consumed by the refusal.
    do_create_channel(actor=user, otp=code, kind="email", name="Fixed", config={"groups": ["cto"]})


def test_a_wrong_code_changes_nothing(security_person):
    user, _, _ = security_person
    with pytest.raises(StepUpFailed):
        do_create_channel(actor=user, otp="000000", kind="slack", name="S", secret=HOOK)
    assert not Channel.objects.filter(kind="slack").exists()
    assert not AuditEntry.objects.filter(action="alerts.channel.created").exists()


def test_a_duplicate_name_is_a_clear_error(security_person):
    user, device, _ = security_person
    with pytest.raises(ValidationError, match="already exists"):
        do_create_channel(
            actor=user,
            otp=code_at_step(device, 0),
            kind="email",
            name="Security team email",
            config={"groups": ["cto"]},
        )


def test_editing_keeps_the_secret_unless_a_new_one_is_typed_and_never_audits_it(
    security_person, make_channel
):
    user, device, _ = security_person
    channel = make_channel("slack", "Sec Slack", secret=HOOK)
    do_update_channel(
        channel.pk, actor=user, otp=code_at_step(device, -1), name="Security Slack", enabled=True
    )
    channel.refresh_from_db()
    assert channel.name == "Security Slack" and channel.transport().secret == HOOK
    assert last_entry("alerts.channel.updated").data == {"changes": {"name": ["Sec Slack", "Security Slack"]}}

    new = HOOK.replace("ZZ9q", "AB12")
    do_update_channel(
        channel.pk, actor=user, otp=code_at_step(device, 0), name="Security Slack", secret=new, enabled=True
    )
    channel.refresh_from_db()
    assert channel.transport().secret == new and channel.secret_hint.endswith("AB12")
    assert last_entry("alerts.channel.updated").data == {"changes": {"secret": "changed"}}
    assert "AB12" not in str(list(AuditEntry.objects.values_list("data", flat=True)))


def test_re_enabling_a_disabled_channel_clears_the_banner_and_resolves_its_alert(
    security_person, make_channel
):
    user, device, _ = security_person
    channel = make_channel("slack", secret=HOOK)
    disable_channel(channel, reason="Slack answered 404 no_service")
    assert Alert.objects.get(event=events.CHANNEL_DISABLED).state == "open"

    do_update_channel(channel.pk, actor=user, otp=code_at_step(device, 0), name=channel.name, enabled=True)

    channel.refresh_from_db()
    assert channel.enabled and channel.disabled_reason == "" and channel.disabled_at is None
    assert Alert.objects.get(event=events.CHANNEL_DISABLED).state == "resolved"


def test_routing_is_data_edited_with_a_code_and_audited(security_person, make_channel):
    user, device, _ = security_person
    email = make_channel("email", "Security team email", config={"groups": ["security-team"]})
    slack = make_channel("slack", "Slack", secret=HOOK, severities=["warning", "critical"])
    wanted = {(email.pk, "critical"), (slack.pk, "info"), (slack.pk, "critical")}

    diff = do_update_routing(actor=user, otp=code_at_step(device, 0), routes=wanted)

    assert set(Route.objects.values_list("channel_id", "severity")) == wanted
    assert diff == {
        "added": [["Slack", "info"]],
        "removed": [
            ["Security team email", "info"],
            ["Security team email", "warning"],
            ["Slack", "warning"],
        ],
    }
    assert last_entry("alerts.routing.updated").data == diff
    alert = raise_alert(events.TEST, key="k", subject="info only")
    assert list(alert.deliveries.values_list("channel__name", flat=True)) == ["Slack"]


def test_routing_with_a_wrong_code_or_a_vanished_channel_changes_nothing(security_person):
    user, device, _ = security_person
    before = set(Route.objects.values_list("channel_id", "severity"))
    with pytest.raises(StepUpFailed):
        do_update_routing(actor=user, otp="123456", routes=set())
    with pytest.raises(ValidationError, match="no longer exists"):
        do_update_routing(actor=user, otp=code_at_step(device, 0), routes={(999999, "info")})
    assert set(Route.objects.values_list("channel_id", "severity")) == before


def test_rotate_field_keys_re_encrypts_channel_secrets(settings, make_channel):
    from cryptography.fernet import Fernet

    channel = make_channel("pagerduty", secret=ROUTING_KEY)
    old_token = channel.encrypted_secret
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, *settings.FIELD_ENCRYPTION_KEYS]

    call_command("rotate_field_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115

    channel.refresh_from_db()
    assert channel.encrypted_secret != old_token
    settings.FIELD_ENCRYPTION_KEYS = [new_key]  # the old key is gone: the new token must still open
    assert channel.transport().secret == ROUTING_KEY
