"""What hvac's adapter did that the engine's pool (vault_http.py) must keep: the token, request
and namespace headers on every call, and TLS verified against the configured CA (a server whose
certificate the CA did not sign is unreachable, never trusted). A real HTTP(S) server stands in
for OpenBao and answers one metadata read."""

import datetime
import ipaddress
import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from secrets_admin.backends.base import BackendError
from secrets_admin.backends.vault import VaultBackend


def self_signed(folder):
    """A certificate for 127.0.0.1 signed by itself: (cert file, key file)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "openbao-test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return str(cert_file), str(key_file)


@pytest.fixture
def fake_openbao(tmp_path):
    """start(tls=bool) -> (url, seen): a server answering metadata reads with version 3 and
    keeping each request's headers in `seen`."""
    servers = []

    def start(tls: bool):
        seen = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                seen.append({key.lower(): value for key, value in self.headers.items()} | {"path": self.path})
                body = json.dumps({"data": {"current_version": 3, "custom_metadata": None}}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        cert = None
        if tls:
            cert, key = self_signed(tmp_path)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)
            server.socket = context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        scheme = "https" if tls else "http"
        return f"{scheme}://127.0.0.1:{server.server_address[1]}", seen, cert

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def config(url, **extra):
    from django.conf import settings

    return {**settings.SECRET_BACKENDS["vault"], "url": url, "token": "t-123", "timeout": 2, **extra}


def test_every_call_carries_the_token_request_and_namespace_headers(fake_openbao):
    url, seen, _ = fake_openbao(tls=False)
    backend = VaultBackend("vault-ns", config(url, namespace="team-a"))

    assert backend.current_version("secret/app/key") == "3"

    (request,) = seen
    assert request["path"] == "/v1/secret/metadata/app/key"
    assert (request["x-vault-token"], request["x-vault-request"], request["x-vault-namespace"]) == (
        "t-123",
        "true",
        "team-a",
    )


def test_tls_is_verified_against_the_configured_ca(fake_openbao):
    url, seen, cert = fake_openbao(tls=True)

    pinned = VaultBackend("vault-tls", config(url, ca_cert=cert))
    assert pinned.current_version("secret/app/key") == "3"

    unknown = VaultBackend("vault-tls-system", config(url, ca_cert=None))  # the system's CAs
    with pytest.raises(BackendError) as caught:
        unknown.current_version("secret/app/key")
    assert caught.value.reason == "unreachable" and "SSL" in str(caught.value)
    assert len(seen) == 1  # the unverified server never got the request (nor the token)
