"""/healthz and /readyz against the real servers, including OpenBao going down and back."""

import pytest

from console.stack.servers import OpenBao


def test_healthz_answers_while_the_process_lives(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "alive"}
    assert len(response["X-Request-ID"]) == 32


@pytest.mark.django_db
def test_readyz_reports_every_dependency(client):
    response = client.get("/readyz")
    body = response.json()
    assert response.status_code == 200, body
    assert set(body["checks"]) == {"database", "redis", "vault", "aws"}
    assert all(check["ok"] for check in body["checks"].values())


@pytest.mark.django_db
def test_readyz_turns_503_when_openbao_stops_and_200_after_restart(client, settings, tmp_path):
    # A second OpenBao of our own: stopping the session's server would break other tests.
    bao = OpenBao(tmp_path, token="readyz-root").start().wait_ready()
    settings.SECRET_BACKENDS = {
        **settings.SECRET_BACKENDS,
        "vault": {**settings.SECRET_BACKENDS["vault"], "url": bao.url, "token": bao.token, "timeout": 1},
    }
    try:
        assert client.get("/readyz").status_code == 200
        bao.stop()
        response = client.get("/readyz")
        assert response.status_code == 503
        checks = response.json()["checks"]
        assert checks["vault"]["ok"] is False and "vault" in checks["vault"]["error"]
        assert checks["database"]["ok"] and checks["redis"]["ok"] and checks["aws"]["ok"]

        bao = OpenBao(tmp_path, token="readyz-root", port=bao.port).start().wait_ready()
        assert client.get("/readyz").status_code == 200
    finally:
        bao.stop()


def test_a_well_formed_request_id_is_kept_and_a_bad_one_replaced(client):
    assert client.get("/healthz", HTTP_X_REQUEST_ID="proxy-id-12345")["X-Request-ID"] == "proxy-id-12345"
    assert client.get("/healthz", HTTP_X_REQUEST_ID="bad id;")["X-Request-ID"] != "bad id;"


def test_every_response_carries_a_strict_content_security_policy(client):
    csp = client.get("/healthz")["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
