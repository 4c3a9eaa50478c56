"""Alerts fixtures: local receivers (HTTP for Slack and PagerDuty, aiosmtpd for email),
channels made directly (the channel services have tests of their own), a secret whose backend
value is a canary, and `deliver_due()`, which does what the worker does, in this thread."""

import email
import email.policy
import uuid

import hvac
import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

from secrets_admin.alerts.events import Severity
from secrets_admin.alerts.models import Channel, Delivery, Route
from secrets_admin.alerts.services import delivery as delivery_service
from tests.accounts.factories import make_device, verified_client
from tests.alerts.receivers import HttpReceiver, SmtpReceiver

PD_ACCEPTED = '{"status":"success","message":"Event processed","dedup_key":"x"}'
SLACK_HOOK_PATH = "/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX"
ROUTING_KEY = "R0UT1NGKEY0000000000000000000001"


@pytest.fixture
def smtp(settings):
    receiver = SmtpReceiver().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", receiver.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 10
    yield receiver
    receiver.stop()


@pytest.fixture
def slack():
    receiver = HttpReceiver(default=(200, "ok")).start()
    receiver.hook = receiver.url + SLACK_HOOK_PATH
    yield receiver
    receiver.stop()


@pytest.fixture
def pagerduty(settings):
    receiver = HttpReceiver(default=(202, PD_ACCEPTED)).start()
    settings.PAGERDUTY_EVENTS_URL = receiver.url + "/v2/enqueue"
    yield receiver
    receiver.stop()


@pytest.fixture
def no_channels(db):
    """Start without the default "Security team email" channel (tests name their channels)."""
    Channel.objects.all().delete()


@pytest.fixture
def make_channel(no_channels):
    """make_channel("slack", secret=url, severities=(...)) -> an enabled Channel."""

    def make(kind, name=None, *, secret="", config=None, severities=Severity.values):
        channel = Channel(name=name or f"{kind}-{uuid.uuid4().hex[:6]}", kind=kind, config=config or {})
        channel.set_secret(secret)
        channel.save()
        Route.objects.bulk_create(Route(channel=channel, severity=s) for s in severities)
        return channel

    return make


def deliver_due(*, rounds: int = 10) -> list:
    """Run every delivery that is due, as the worker would, until none is. Returns outcomes."""
    outcomes = []
    for _ in range(rounds):
        due = Delivery.objects.filter(status__in=Delivery.WAITING, next_attempt_at__lte=timezone.now())
        ids = list(due.order_by("pk").values_list("pk", flat=True))
        if not ids:
            break
        outcomes += [delivery_service.deliver(pk) for pk in ids]
    return outcomes


def email_texts(smtp) -> list[str]:
    """Each message the SMTP receiver got: decoded subject, text part and HTML part."""
    texts = []
    for envelope in smtp.messages:
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        parts = [f"Subject: {message['subject']}", f"To: {message['to']}"]
        parts += [part.get_content() for part in message.walk() if part.get_content_maintype() == "text"]
        texts.append("\n".join(parts))
    return texts


def drain_alert_messages(redis_url: str) -> list[int]:
    """Take alerts.deliver messages off the broker queue (tests that commit without a worker);
    returns the delivery ids they carried."""
    import base64
    import json

    import redis

    broker = redis.Redis.from_url(redis_url)
    ids = []
    for item in broker.lrange("console", 0, -1):
        message = json.loads(item)
        if message.get("headers", {}).get("task") == "alerts.deliver" and broker.lrem("console", 1, item):
            ids += json.loads(base64.b64decode(message["body"]))[0]
    return ids


def let_backoff_pass():
    """The waits between tries are over (instead of sleeping through them)."""
    Delivery.objects.filter(status__in=Delivery.WAITING).update(next_attempt_at=timezone.now())


@pytest.fixture
def security_person(db):
    """carol, security-team, with an authenticator: (user, device, verified client)."""
    user = User.objects.create_user("carol", "carol@candlefish.example", "a-long-test-password")
    user.groups.add(Group.objects.get(name="security-team"))
    device = make_device(user)
    return user, device, verified_client(user, device)


@pytest.fixture
def canary_secret(settings, openbao):
    """A KV secret whose value is a canary, synced into the inventory: (Secret, canary)."""
    from secrets_admin.inventory.models import Secret
    from secrets_admin.inventory.services.sync import sync_backend

    prefix = f"alerts-{uuid.uuid4().hex[:8]}"
    canary = f"CANARY{uuid.uuid4().hex}"
    client = hvac.Client(url=openbao.url, token=openbao.token)
    client.secrets.kv.v2.create_or_update_secret(
        path=f"{prefix}/payments/stripe", secret={"value": canary}, mount_point="secret"
    )
    client.secrets.kv.v2.update_metadata(
        path=f"{prefix}/payments/stripe",
        custom_metadata={"owner": "payments", "kind": "api_key"},
        mount_point="secret",
    )
    settings.SECRET_BACKENDS = {
        **settings.SECRET_BACKENDS,
        "alertkv": {
            **settings.SECRET_BACKENDS["vault"],
            "url": openbao.url,
            "token": openbao.token,
            "kv_prefix": prefix,
            "engines": "kv",
        },
    }
    run = sync_backend("alertkv", actor="test")
    assert run.state == "succeeded", run.error
    return Secret.objects.get(backend="alertkv"), canary
