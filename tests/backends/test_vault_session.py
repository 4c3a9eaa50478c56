"""The OpenBao client's HTTP session takes nothing from the environment unless told to
(VAULT_TRUST_ENV): no proxy named by HTTP(S)_PROXY, no .netrc. CA verification stays explicit."""

import certifi
import hvac
import pytest

from console.stack.servers import free_port
from secrets_admin.backends.base import BackendError
from secrets_admin.backends.vault import VaultBackend, session
from tests.backends.test_vault_contract import vault_config

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


@pytest.fixture
def dead_proxy(monkeypatch, tmp_path):
    """Every proxy variable names a port nobody listens on, nothing is exempt from it, and a
    .netrc offers credentials for any host: a client that trusts the environment cannot connect."""
    proxy = f"http://127.0.0.1:{free_port()}"
    for name in PROXY_VARIABLES:
        monkeypatch.setenv(name, proxy)
    for name in ("NO_PROXY", "no_proxy", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    netrc = tmp_path / "netrc"
    netrc.write_text("default login someone password from-netrc\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    return proxy


@pytest.fixture
def root(openbao):
    return hvac.Client(url=openbao.url, token=openbao.token, session=session({}))


def custom_metadata(root, key):
    return root.secrets.kv.v2.read_secret_metadata(key, mount_point="secret")["data"]["custom_metadata"]


def test_the_environment_proxy_is_not_used_by_default(openbao, kv_prefix, root, dead_proxy):
    root.secrets.kv.v2.create_or_update_secret(f"{kv_prefix}/k", secret={"value": "x"}, mount_point="secret")
    backend = VaultBackend("vault-env", vault_config(openbao, trust_env=False))

    backend.write_metadata(f"secret/{kv_prefix}/k", {"owner": "payments"})
    assert backend.current_version(f"secret/{kv_prefix}/k") == "1"

    assert custom_metadata(root, f"{kv_prefix}/k") == {"owner": "payments"}


def test_trust_env_sends_requests_through_the_environment_proxy(openbao, kv_prefix, root, dead_proxy):
    root.secrets.kv.v2.create_or_update_secret(f"{kv_prefix}/k", secret={"value": "x"}, mount_point="secret")
    backend = VaultBackend("vault-env", vault_config(openbao, trust_env=True, timeout=2))

    with pytest.raises(BackendError) as caught:
        backend.write_metadata(f"secret/{kv_prefix}/k", {"owner": "payments"})

    assert caught.value.reason == "unreachable"
    assert custom_metadata(root, f"{kv_prefix}/k") is None  # the write never reached OpenBao


def test_ca_verification_is_explicit(openbao):
    default = VaultBackend("vault-ca", vault_config(openbao, ca_cert=None)).client.adapter
    pinned = VaultBackend("vault-ca2", vault_config(openbao, ca_cert="/etc/candlefish/ca.pem")).client.adapter

    assert (default.session.trust_env, default._kwargs["verify"]) == (False, True)
    assert pinned._kwargs["verify"] == "/etc/candlefish/ca.pem"
    # ... and the pool VaultBackend._call sends on (vault_http.py) trusts the same CAs.
    wires = [
        VaultBackend(n, vault_config(openbao, ca_cert=ca))._wire for n, ca in (("a", None), ("b", "/x.pem"))
    ]
    assert [wire._tls["cert_reqs"] for wire in wires] == ["CERT_REQUIRED"] * 2
    assert [wire._tls["ca_certs"] for wire in wires] == [certifi.where(), "/x.pem"]
