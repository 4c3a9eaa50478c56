"""Local stand-ins for the services we cannot reach: an HTTP server that records every request
(Slack webhooks, PagerDuty's Events API) and an SMTP server (aiosmtpd) that records every
message. Both answer what the test tells them to, so refusals and outages are real responses."""

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller

from console.stack.servers import free_port


@dataclass
class Request:
    method: str
    path: str
    headers: dict
    body: bytes

    @property
    def json(self):
        return json.loads(self.body)


class HttpReceiver:
    """`respond(status, body, times=n)` queues answers; afterwards it answers the default."""

    def __init__(self, default=(200, "ok")):
        self.default = default
        self.requests: list[Request] = []
        self._answers: list[tuple[int, str]] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    receiver.requests.append(Request("POST", self.path, dict(self.headers), body))
                    status, text = receiver._answers.pop(0) if receiver._answers else receiver.default
                payload = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json" if text.startswith("{") else "text/plain")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def respond(self, status: int, body: str, *, times: int = 1):
        with self._lock:
            self._answers += [(status, body)] * times

    def raw(self) -> bytes:
        return b"\n".join(r.body for r in self.requests)

    def wait_for(self, count: int, timeout: float = 30) -> list[Request]:
        deadline = time.monotonic() + timeout
        while len(self.requests) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.requests) >= count, f"got {len(self.requests)} of {count} requests"
        return self.requests


class SmtpReceiver:
    """aiosmtpd on a free port. `refuse(code_and_text, times=n)` answers RCPT with an error."""

    def __init__(self):
        self.messages = []  # aiosmtpd Envelopes
        self._refusals: list[str] = []
        receiver = self

        class Handler:
            async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
                if receiver._refusals:
                    return receiver._refusals.pop(0)
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):  # noqa: N802
                receiver.messages.append(envelope)
                return "250 Message accepted"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def start(self):
        self.controller.start()
        return self

    def stop(self):
        self.controller.stop()

    def refuse(self, answer: str, *, times: int = 1):
        self._refusals += [answer] * times

    def raw(self) -> bytes:
        return b"\n".join(bytes(m.original_content or m.content) for m in self.messages)

    def wait_for(self, count: int, timeout: float = 30):
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.messages) >= count, f"got {len(self.messages)} of {count} messages"
        return self.messages
