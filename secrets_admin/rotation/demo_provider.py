"""A small API provider for demos and tests: it issues nothing, it *accepts* API keys, and it
implements the rotation hook (secrets_admin.rotation.hooks) the way a real provider would.

    python -m secrets_admin.rotation.demo_provider --port 8790 --state .run/provider.json

    GET  /api/whoami   Authorization: Bearer <api key>  -> 200 {"secret": ...} or 401 (a login)
    POST /hook         a signed hook request             -> 200, or 4xx/5xx {"error": "..."}
    GET  /healthz      -> 200

Hook steps: `set` fetches the pending key from the backend (with the provider's own
credentials, never from the console) and starts accepting it beside the current one; `test`
logs in with the pending key through /api/whoami, for real; `retire` revokes every key of that
secret except the current one. The provider keeps SHA-256 hashes of accepted keys, never keys.

Environment: DEMO_PROVIDER_HMAC_KEY (the hooks' signing key), DEMO_PROVIDER_BACKENDS (JSON:
backend name -> adapter config, e.g. {"vault": {"kind": "vault", "url": ..., "token_file": ...},
"aws": {"kind": "aws", "endpoint_url": ..., "region": ...}}). A `token_file` is read per request,
so the token may be written after the provider starts.
"""

import argparse
import hashlib
import json
import logging
import os
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

log = logging.getLogger("demo_provider")
MAX_SKEW = 300  # seconds: an older signed request is a replay


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class Provider:
    def __init__(self, key: bytes, backends: dict, state: Path | None, port: int):
        self.key, self.configs, self.state_file, self.port = key, backends, state, port
        self.lock = threading.Lock()
        self.accepted: dict[str, list[str]] = {}
        if state and state.exists():
            self.accepted = json.loads(state.read_text())

    def backend(self, name: str):
        from secrets_admin.backends.aws import AwsBackend
        from secrets_admin.backends.vault import VaultBackend

        config = dict(self.configs.get(name) or {})
        if not config:
            raise LookupError(f"no credentials for backend {name!r}")
        if config.get("token_file"):
            config["token"] = Path(config["token_file"]).read_text().strip()
        return (VaultBackend if config["kind"] == "vault" else AwsBackend)(name, config)

    def _save(self):
        if self.state_file:
            self.state_file.write_text(json.dumps(self.accepted))

    def login(self, api_key: str) -> str | None:
        digest = _hash(api_key)
        with self.lock:
            return next((name for name, keys in self.accepted.items() if digest in keys), None)

    def hook(self, body: bytes, signature: str) -> tuple[int, dict]:
        from secrets_admin.rotation.signing import verify

        if not verify(self.key, body, signature):
            return 401, {"error": "bad signature"}
        request = json.loads(body)
        if abs(time.time() - int(request.get("sent_at", 0))) > MAX_SKEW:
            return 401, {"error": "stale request"}
        step, path, run = request["step"], request["secret"], request["run"]
        name = f"{request['backend']}:{path}"
        backend = self.backend(request["backend"])
        log.info("hook %s for %s (run %s, version %s)", step, name, run, request.get("version_id"))
        if step == "set":
            current, pending = backend.read_current(path), backend.read_pending(path, token=run)
            with self.lock:
                keys = self.accepted.setdefault(name, [])
                keys += [h for h in (_hash(current), _hash(pending)) if h not in keys]
                self._save()
            del current, pending
            return 200, {"ok": True}
        if step == "test":
            pending = backend.read_pending(path, token=run)
            ok = self.whoami(pending) == name
            del pending
            return (200, {"ok": True}) if ok else (409, {"error": "the new key does not log in"})
        if step == "retire":
            current = _hash(backend.read_current(path))
            with self.lock:
                self.accepted[name] = [current]
                self._save()
            return 200, {"ok": True}
        return 400, {"error": f"unknown step {step!r}"}

    def whoami(self, api_key: str) -> str | None:
        """A real login over HTTP against our own API, as a client would do it."""
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/api/whoami", headers={"Authorization": f"Bearer {api_key}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310 (loopback)
                return json.loads(answer.read())["secret"]
        except Exception:  # 401 or no answer: the key does not log in
            return None


def handler_for(provider: Provider):
    class Handler(BaseHTTPRequestHandler):
        def _send(self, status: int, payload: dict):
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):  # noqa: N802 (http.server's naming)
            if self.path == "/healthz":
                return self._send(200, {"ok": True})
            if self.path == "/api/whoami":
                auth = self.headers.get("Authorization", "")
                name = provider.login(auth.removeprefix("Bearer ")) if auth.startswith("Bearer ") else None
                return self._send(200, {"secret": name}) if name else self._send(401, {"error": "bad key"})
            return self._send(404, {"error": "not found"})

        def do_POST(self):  # noqa: N802
            if self.path != "/hook":
                return self._send(404, {"error": "not found"})
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                status, payload = provider.hook(body, self.headers.get("X-Candlefish-Signature", ""))
            except Exception as exc:  # the backend is away or refused: the console retries
                log.warning("hook failed: %s", type(exc).__name__)
                status, payload = 503, {"error": f"could not read the backend ({type(exc).__name__})"}
            return self._send(status, payload)

        def log_message(self, format, *args):  # noqa: A002 - keep access lines short, without headers
            log.info("%s %s", self.command, self.path)

    return Handler


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Candlefish demo API provider (rotation hook)")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state", default="", help="file keeping the accepted keys' hashes")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    key = os.environ["DEMO_PROVIDER_HMAC_KEY"].encode()
    backends = json.loads(os.environ.get("DEMO_PROVIDER_BACKENDS") or "{}")
    provider = Provider(key, backends, Path(args.state) if args.state else None, args.port)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), handler_for(provider))
    log.info("demo API provider on http://127.0.0.1:%s", args.port)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
