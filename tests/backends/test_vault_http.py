"""VaultBackend._call on its own urllib3 pool (vault_http.py): redirects are followed as hvac's
client followed them, and failures read exactly as they did (not found, denied, unreachable,
timed out)."""

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import hvac
import pytest

from console.stack.servers import free_port
from secrets_admin.backends.base import BackendError
from secrets_admin.backends.vault import VaultBackend, session
from tests.backends.test_vault_contract import token_with_policy, vault_config


@pytest.fixture
def root(openbao):
    return hvac.Client(url=openbao.url, token=openbao.token, session=session({}))


@pytest.fixture
def standby(openbao):
    """A server answering every call with 307 to OpenBao, as a standby node points at the active."""

    class Redirect(BaseHTTPRequestHandler):
        def answer(self):
            self.send_response(307)
            self.send_header("Location", f"{openbao.url}{self.path}")
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = answer

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_redirect_to_the_active_node_is_followed_with_its_body(openbao, standby, root, kv_prefix):
    root.secrets.kv.v2.create_or_update_secret(f"{kv_prefix}/k", secret={"value": "x"}, mount_point="secret")
    backend = VaultBackend("vault-standby", vault_config(openbao, url=standby))

    backend.write_metadata(f"secret/{kv_prefix}/k", {"owner": "payments"})  # a PATCH with a body

    meta = root.secrets.kv.v2.read_secret_metadata(f"{kv_prefix}/k", mount_point="secret")["data"]
    assert meta["custom_metadata"] == {"owner": "payments"}
    assert backend.current_version(f"secret/{kv_prefix}/k") == "1"


def test_failures_keep_their_causes(openbao, root, kv_prefix):
    backend = VaultBackend("vault-wire", vault_config(openbao))
    with pytest.raises(BackendError) as missing:
        backend.current_version(f"secret/{kv_prefix}/absent")
    assert missing.value.reason == "not found"

    reader = token_with_policy(root, 'path "secret/metadata/elsewhere/*" { capabilities = ["read"] }')
    denied = VaultBackend("vault-denied", vault_config(openbao, token=reader))
    with pytest.raises(BackendError) as refused:
        denied.write_metadata(f"secret/{kv_prefix}/k", {"owner": "x"})
    assert refused.value.reason.startswith("permission denied") and refused.value.permanent

    down = VaultBackend("vault-down", vault_config(openbao, url=f"http://127.0.0.1:{free_port()}"))
    with pytest.raises(BackendError) as unreachable:
        down.current_version(f"secret/{kv_prefix}/k")
    assert (unreachable.value.reason, unreachable.value.permanent) == ("unreachable", False)


def test_a_server_that_never_answers_times_out(openbao, kv_prefix):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)  # accepts connections and says nothing
    try:
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        backend = VaultBackend("vault-silent", vault_config(openbao, url=url, timeout=1))
        with pytest.raises(BackendError) as caught:
            backend.current_version(f"secret/{kv_prefix}/k")
        assert (caught.value.reason, caught.value.permanent) == ("timed out", False)
    finally:
        silent.close()
