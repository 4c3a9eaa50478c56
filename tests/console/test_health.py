"""/healthz and /readyz against the real servers, including OpenBao going down and back; what
each caller may see; bounded, cached probes; and the overview page never probing on load."""

import threading
import time

import pytest
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.test import Client

from console import health
from console.stack.servers import OpenBao
from tests.accounts.factories import verified_client

PROBE_CALLS = {"count": 0}
RELEASE = threading.Event()


def counting_probe():
    PROBE_CALLS["count"] += 1


def hanging_probe():
    PROBE_CALLS["count"] += 1
    RELEASE.wait(30)


@pytest.fixture(autouse=True)
def _fresh_readiness():
    cache.delete(health.CACHE_KEY)
    PROBE_CALLS["count"] = 0
    yield
    RELEASE.set()
    cache.delete(health.CACHE_KEY)


def member(username, group) -> Client:
    user = User.objects.create_user(username, password="x" * 16)
    user.groups.add(Group.objects.get(name=group))
    return verified_client(user)


def test_healthz_answers_while_the_process_lives(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "alive"}
    assert len(response["X-Request-ID"]) == 32


@pytest.mark.django_db
def test_readyz_tells_anyone_only_whether_it_is_ready(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ready"}


@pytest.mark.django_db
def test_the_security_team_also_sees_every_check_with_its_timing():
    body = member("carol", "security-team").get("/readyz").json()
    assert body["status"] == "ready" and set(body["checks"]) == {"database", "redis", "vault", "aws"}
    assert all(check["ok"] and check["ms"] >= 0 for check in body["checks"].values())
    assert "checks" not in member("alice", "developers").get("/readyz").json()


@pytest.mark.django_db
def test_readyz_turns_503_when_openbao_stops_and_200_after_restart(client, settings, tmp_path, caplog):
    # A second OpenBao of our own: stopping the session's server would break other tests.
    bao = OpenBao(tmp_path, token="readyz-root").start().wait_ready()
    settings.SECRET_BACKENDS = {
        **settings.SECRET_BACKENDS,
        "vault": {**settings.SECRET_BACKENDS["vault"], "url": bao.url, "token": bao.token, "timeout": 1},
    }
    carol = member("carol", "security-team")
    try:
        assert client.get("/readyz").status_code == 200
        bao.stop()
        cache.delete(health.CACHE_KEY)
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json() == {"status": "not ready", "failing": ["vault"]}  # no error text
        assert "vault is not ready" in caplog.text and f"port={bao.port}" in caplog.text  # the log has it
        checks = carol.get("/readyz").json()["checks"]
        assert checks["vault"]["ok"] is False and "unreachable" in checks["vault"]["error"]
        assert checks["database"]["ok"] and checks["redis"]["ok"] and checks["aws"]["ok"]

        bao = OpenBao(tmp_path, token="readyz-root", port=bao.port).start().wait_ready()
        cache.delete(health.CACHE_KEY)
        assert client.get("/readyz").status_code == 200
    finally:
        bao.stop()


@pytest.mark.django_db
def test_results_are_reused_for_a_few_seconds(client, settings):
    settings.READINESS_PROBES = {"counter": "tests.console.test_health.counting_probe"}
    settings.READINESS_CACHE_SECONDS = 1
    for _ in range(5):
        assert client.get("/readyz").status_code == 200
    assert PROBE_CALLS["count"] == 1
    time.sleep(1.2)
    client.get("/readyz")
    assert PROBE_CALLS["count"] == 2


@pytest.mark.django_db
def test_a_hanging_probe_fails_after_the_timeout_and_is_not_started_twice(client, settings):
    RELEASE.clear()
    settings.READINESS_PROBES = {"slow": "tests.console.test_health.hanging_probe"}
    settings.READINESS_TIMEOUT = 1
    started = time.monotonic()
    response = client.get("/readyz")
    assert time.monotonic() - started < 2.5
    assert response.status_code == 503 and response.json() == {"status": "not ready", "failing": ["slow"]}
    cache.delete(health.CACHE_KEY)
    assert client.get("/readyz").status_code == 503
    assert PROBE_CALLS["count"] == 1  # the first is still running: waited on, not started again
    RELEASE.set()  # it answers at last: its answer replaces "no answer" in the cached result
    time.sleep(0.3)
    assert client.get("/readyz").status_code == 200 and PROBE_CALLS["count"] == 1


@pytest.mark.django_db
def test_the_overview_page_never_calls_a_backend(settings):
    settings.READINESS_PROBES = {"counter": "tests.console.test_health.counting_probe"}
    alice = member("alice", "developers")
    page = alice.get("/")
    assert page.status_code == 200 and "Checking the backends" in page.content.decode()
    assert PROBE_CALLS["count"] == 0
    panel = alice.get("/status/backends/")  # what the page loads afterwards (htmx)
    assert "reachable" in panel.content.decode() and "ms" not in panel.content.decode()
    assert PROBE_CALLS["count"] == 1
    assert "reachable" in alice.get("/").content.decode()  # the cached result, still no call
    assert PROBE_CALLS["count"] == 1


def test_a_well_formed_request_id_is_kept_and_a_bad_one_replaced(client):
    assert client.get("/healthz", HTTP_X_REQUEST_ID="proxy-id-12345")["X-Request-ID"] == "proxy-id-12345"
    assert client.get("/healthz", HTTP_X_REQUEST_ID="bad id;")["X-Request-ID"] != "bad id;"


def test_every_response_carries_a_strict_content_security_policy(client):
    csp = client.get("/healthz")["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp


def test_connect_src_allows_only_the_consoles_own_origin(client, settings):
    policy = client.get("/healthz")["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["connect-src"] == "'self' ws://testserver"
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    secure = client.get("/healthz", HTTP_X_FORWARDED_PROTO="https", HTTP_HOST="localhost")
    assert "connect-src 'self' wss://localhost;" in secure["Content-Security-Policy"]
    refused = client.get("/healthz", HTTP_HOST="evil.example")  # not in ALLOWED_HOSTS: never named
    assert "evil" not in refused["Content-Security-Policy"]
