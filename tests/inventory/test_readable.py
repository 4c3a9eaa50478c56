"""The inventory in a person's words: display names instead of ARNs and serials, a certificate's
status as its expiry, backend facts labelled in words, no due date before the secret existed."""

from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from secrets_admin.inventory.facts import duration, facts
from secrets_admin.inventory.models import Secret
from secrets_admin.inventory.models.secret import expiry_words
from secrets_admin.inventory.services.sync import sync_backend

pytestmark = pytest.mark.django_db


@pytest.fixture
def pki_backend(settings, openbao):
    settings.SECRET_BACKENDS = {
        **settings.SECRET_BACKENDS,
        "pkitest": {
            **settings.SECRET_BACKENDS["vault"],
            "url": openbao.url,
            "token": openbao.token,
            "engines": "pki",
        },
    }
    return "pkitest"


def section(html: str, heading_id: str) -> str:
    start = html.index(f'id="{heading_id}"')
    return html[start : html.index("</section>", start)]


def test_rows_name_secrets_as_people_do_and_the_detail_keeps_the_full_path(
    aws_backend, sm, pki_backend, kv, people, client_for
):
    name = f"{aws_backend}/payments/stripe-key"
    arn = sm.create_secret(Name=name, SecretString="v", Tags=[{"Key": "kind", "Value": "api_key"}])["ARN"]
    serial = kv.secrets.pki.generate_certificate(
        "candlefish", "shop.readable.example", extra_params={"ttl": "240h"}, mount_point="pki"
    )["data"]["serial_number"]
    sync_backend("awstest", actor="test")
    sync_backend(pki_backend, actor="test")
    client = client_for(people["developers"])

    listed = client.get(reverse("inventory:list"), {"backend": "awstest"}).content.decode()
    assert f">{name}</a>" in listed and arn not in listed
    certs = client.get(reverse("inventory:list"), {"q": "shop.readable"}).content.decode()
    assert ">shop.readable.example</a>" in certs and f"pki/cert/{serial}" not in certs
    assert "expires in 9 days, renew now" in certs  # 10 days left, inside the 30-day window

    cert = Secret.objects.get(backend=pki_backend, path=f"pki/cert/{serial}")
    detail = client.get(cert.get_absolute_url()).content.decode()
    assert f'<code id="secret-path">pki/cert/{serial}</code>' in detail
    assert 'data-copy="secret-path"' in detail and "<h1" in detail and "shop.readable.example" in detail
    aws = Secret.objects.get(backend="awstest", path=arn)
    assert f'<code id="secret-path">{arn}</code>' in client.get(aws.get_absolute_url()).content.decode()


def test_backend_facts_read_as_words_not_python(pki_backend, kv, people, client_for):
    serial = kv.secrets.pki.generate_certificate(
        "candlefish", "facts.readable.example", extra_params={"ttl": "96h"}, mount_point="pki"
    )["data"]["serial_number"]
    sync_backend(pki_backend, actor="test")
    cert = Secret.objects.get(backend=pki_backend, path=f"pki/cert/{serial}")
    html = unescape(client_for(people["managers"]).get(cert.get_absolute_url()).content.decode())

    rotation = section(html, "policy-h")
    assert "Enabled: no; TTL: 4 days" in rotation
    backend_facts = section(html, "meta-h")
    for expected in ("Certificate authority</dt>", "Revoked</dt>", "DNS names</dt>", "Valid until</dt>"):
        assert expected in backend_facts
    assert ">no</dd>" in backend_facts and "facts.readable.example" in backend_facts
    for python in ("True", "False", "None", "['", "{'"):
        assert python not in backend_facts + rotation, python
    assert f"{cert.expires_at:%Y-%m-%d %H:%M} UTC" in backend_facts  # ISO times in words too


def test_next_due_is_never_before_the_secret_was_created(pki_backend, kv, people, client_for):
    serial = kv.secrets.pki.generate_certificate(
        "candlefish", "short.readable.example", extra_params={"ttl": "72h"}, mount_point="pki"
    )["data"]["serial_number"]
    sync_backend(pki_backend, actor="test")
    cert = Secret.objects.get(backend=pki_backend, path=f"pki/cert/{serial}")
    assert cert.rotation_policy.lead_days == 30 and cert.next_due == cert.created_at
    html = client_for(people["developers"]).get(cert.get_absolute_url()).content.decode()
    assert f'Next due</dt><dd class="col-sm-8">{cert.created_at:%Y-%m-%d %H:%M}' in html


def test_a_certificate_status_speaks_in_expiry():
    now = timezone.now()
    cert = Secret(kind="certificate", status="overdue", expires_at=now - timedelta(days=2, hours=1))
    assert cert.status_label == "expired 2 days ago" and cert.expired
    cert.expires_at, cert.status = now + timedelta(days=40, minutes=1), "ok"
    assert cert.status_label == "expires in 40 days"
    cert.expires_at, cert.status = now + timedelta(days=35, minutes=1), "due_soon"
    assert cert.status_label == "expires in 35 days, renew soon"
    cert.status = "missing"
    assert cert.status_label == "Missing in backend"
    assert Secret(kind="password", status="overdue").status_label == "Overdue"


def test_expiry_and_durations_in_words():
    now = datetime(2026, 6, 1, 12, tzinfo=UTC)
    assert expiry_words(now + timedelta(hours=5, minutes=30), now) == "expires in 5 hours"
    assert expiry_words(now + timedelta(days=1, hours=2), now) == "expires in 1 day"
    assert expiry_words(now - timedelta(minutes=1), now) == "expired today"
    assert duration(4 * 86400) == "4 days" and duration(4 * 86400 + 30) == "4 days"
    assert duration(93600) == "1 day 2 hours" and duration(5400) == "1 hour 30 minutes"
    assert duration(45) == "45 seconds" and duration(0) == "none"
    assert facts({"enabled": False, "ttl": 86400, "dns_names": [], "allowed_roles": ["a", "b"]}) == [
        ("DNS names", "none"),
        ("Allowed roles", "a; b"),
        ("Enabled", "no"),
        ("TTL", "1 day"),
    ]
    assert facts({"max_versions": 0, "outstanding_leases": None, "custom_thing": True}) == [
        ("Versions kept", "the mount's default"),
        ("Outstanding leases", "unknown"),
        ("Custom thing", "yes"),
    ]
