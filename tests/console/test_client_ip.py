"""One reading of the client IP (TRUSTED_PROXIES), shared by the audit ledger, the login lockout
(axes) and allauth's login rate limit — and without TRUSTED_PROXIES only REMOTE_ADDR counts."""

import random

import pytest
from axes.models import AccessAttempt
from django.test import Client, RequestFactory

from console.client_ip import client_ip, parse_trusted_proxies
from secrets_admin.audit.models import AuditEntry
from tests.console.test_settings import run

PROXY = "10.0.0.5"


def fresh_address() -> str:
    """An address no earlier run used within the rate limit's minute (its counters live in Redis)."""
    return f"198.18.{random.randint(0, 255)}.{random.randint(1, 254)}"


def request(remote="198.51.100.1", forwarded=None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


@pytest.mark.parametrize(
    ("trusted", "remote", "forwarded", "expected"),
    [
        # No TRUSTED_PROXIES: whatever the header says, the TCP peer is the client.
        (0, "198.51.100.1", "203.0.113.9", "198.51.100.1"),
        (0, "198.51.100.1", None, "198.51.100.1"),
        # One proxy: the rightmost entry (what the proxy saw); the client's own entries are ignored.
        (1, PROXY, "203.0.113.9", "203.0.113.9"),
        (1, PROXY, "6.6.6.6, 203.0.113.9", "203.0.113.9"),
        (1, PROXY, "6.6.6.6,203.0.113.9:51234", "203.0.113.9"),
        (1, PROXY, None, PROXY),  # nothing forwarded: the peer
        (1, PROXY, "not-an-ip", PROXY),  # garbage from the proxy: no further than the proxy
        # Two proxies: the second from the right.
        (2, PROXY, "6.6.6.6, 203.0.113.9, 10.0.0.4", "203.0.113.9"),
        (2, PROXY, "203.0.113.9", "203.0.113.9"),  # fewer entries than hops: the leftmost
        # CIDRs: walk from the right past trusted proxies.
        (["10.0.0.0/8"], PROXY, "6.6.6.6, 203.0.113.9, 10.0.0.4", "203.0.113.9"),
        (["10.0.0.0/8"], "198.51.100.1", "203.0.113.9", "198.51.100.1"),  # peer is no proxy
        (["10.0.0.0/8"], PROXY, "10.0.0.3, 10.0.0.4", "10.0.0.3"),  # all trusted: the leftmost
        (["10.0.0.0/8"], PROXY, "6.6.6.6, bogus, 10.0.0.4", "10.0.0.4"),
        (["2001:db8::/32"], "2001:db8::1", "[2001:db8:ffff::9]:443, 2001:db8::2", "2001:db8:ffff::9"),
        (["2001:db8::/32"], "2001:db8::1", "203.0.113.9", "203.0.113.9"),
        (0, "not-an-address", None, ""),
    ],
)
def test_the_client_is_read_from_the_right_as_far_as_proxies_are_trusted(
    settings, trusted, remote, forwarded, expected
):
    settings.TRUSTED_PROXIES = trusted
    assert client_ip(request(remote, forwarded)) == expected


def test_trusted_proxies_parse_from_the_environment():
    assert parse_trusted_proxies("") == 0
    assert parse_trusted_proxies(" 2 ") == 2
    assert parse_trusted_proxies("10.0.0.0/8, 192.0.2.7") == ["10.0.0.0/8", "192.0.2.7/32"]
    for bad in ("-1", "ten", "10.0.0.0/33", "1,"):
        with pytest.raises(ValueError):
            parse_trusted_proxies(bad)


def test_a_malformed_trusted_proxies_is_a_configuration_error():
    code = (
        "import django; django.setup(); from django.core import checks; "
        "print(sorted(m.msg for m in checks.run_checks() if m.id == 'console.E001'))"
    )
    result = run(code, DJANGO_SETTINGS_MODULE="console.settings", TRUSTED_PROXIES="10.0.0.0/33")
    assert result.returncode == 0, result.stderr
    assert "TRUSTED_PROXIES" in result.stdout and "10.0.0.0/33" not in result.stdout


def proxied_client():
    """A client behind our proxy: its REMOTE_ADDR is the proxy's."""
    return Client(REMOTE_ADDR=PROXY)


def attempt(client, client_address, login="nobody-here", header=None):
    forwarded = header or f"6.6.6.6, {client_address}"  # the first entry is the client's forgery
    return client.post(
        "/accounts/login/", {"login": login, "password": "wrong-password"}, HTTP_X_FORWARDED_FOR=forwarded
    )


@pytest.mark.django_db
def test_the_ledger_and_the_lockout_record_the_client_behind_the_proxy(settings, django_user_model):
    settings.TRUSTED_PROXIES = 1
    django_user_model.objects.create_user("alice", "alice@candlefish.example", "x" * 16)
    address = fresh_address()
    attempt(proxied_client(), address, login="alice")
    entry = AuditEntry.objects.filter(action="auth.login.failed").latest("id")
    assert entry.ip == address
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == [address]


@pytest.mark.django_db
def test_without_trusted_proxies_a_forged_header_changes_nothing(settings, django_user_model):
    settings.TRUSTED_PROXIES = 0
    django_user_model.objects.create_user("alice", "alice@candlefish.example", "x" * 16)
    client = Client(REMOTE_ADDR="198.51.100.77")
    for forged in ("203.0.113.1", "203.0.113.2"):
        attempt(client, forged, login="alice", header=forged)
    ips = set(AuditEntry.objects.filter(action="auth.login.failed").values_list("ip", flat=True))
    assert ips == {"198.51.100.77"}
    assert list(AccessAttempt.objects.values_list("ip_address", "failures_since_start")) == [
        ("198.51.100.77", 2)
    ]


@pytest.mark.django_db
def test_allauths_rate_limit_counts_each_client_behind_the_proxy_apart(settings):
    settings.TRUSTED_PROXIES = 1
    client = proxied_client()
    sprayer, bystander = fresh_address(), fresh_address()
    for i in range(30):  # allauth's "login" limit: 30 attempts per minute per IP
        assert attempt(client, sprayer, login=f"sprayed-{i}").status_code == 200
    assert attempt(client, sprayer, login="sprayed-last").status_code == 429
    # Another client through the same proxy is not limited by the first one's attempts.
    assert attempt(client, bystander, login="someone").status_code == 200
