"""An HTTP proxy in front of a real server that holds chosen requests for `delay` seconds before
passing them on: a slow backend for benchmarks, with the real backend's answers."""

import http.client
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


class SlowProxy:
    def __init__(self, upstream: str, *, delay: float, methods: set[str]):
        self.upstream, self.delay, self.methods = urlsplit(upstream), delay, methods
        self.in_flight = 0  # delayed requests not answered yet
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _forward(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                slow = self.command in proxy.methods
                if slow:
                    with proxy._lock:
                        proxy.in_flight += 1
                try:
                    if slow:
                        time.sleep(proxy.delay)
                    conn = http.client.HTTPConnection(
                        proxy.upstream.hostname, proxy.upstream.port, timeout=30
                    )
                    headers = {
                        k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")
                    }
                    conn.request(self.command, self.path, body=body or None, headers=headers)
                    answer = conn.getresponse()
                    payload = answer.read()
                    self.send_response(answer.status)
                    for key, value in answer.getheaders():
                        if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                            self.send_header(key, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    conn.close()
                finally:
                    if slow:
                        with proxy._lock:
                            proxy.in_flight -= 1

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_LIST = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> "SlowProxy":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
