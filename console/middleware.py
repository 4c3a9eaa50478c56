"""Request id and Content-Security-Policy middleware."""

import contextvars
import logging
import re
import uuid

from django.core.exceptions import DisallowedHost

_request_id = contextvars.ContextVar("request_id", default="-")
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

# connect-src: only this console. 'self' covers ws:/wss: to the page's own host in Chromium and
# Firefox (CSP Level 3), but older WebKit never matched websockets with 'self', so the page's own
# websocket origin is also named explicitly (see ContentSecurityPolicyMiddleware).
CSP_DIRECTIVES = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
)
CSP = "; ".join(CSP_DIRECTIVES)


def content_security_policy(request) -> str:
    """The policy for one response: CSP, with `connect-src` naming the page's own websocket
    origin (ws:// or wss://, the host the request was validated against)."""
    try:
        host = request.get_host()  # checked against ALLOWED_HOSTS; never a host the client made up
    except DisallowedHost:
        return CSP
    scheme = "wss" if request.is_secure() else "ws"
    return CSP.replace("connect-src 'self'", f"connect-src 'self' {scheme}://{host}")


def current_request_id() -> str:
    """The id of the request (or task) being served, '-' outside one."""
    return _request_id.get()


def bind_request_id(value: str):
    """Set the id for work outside a request (Celery tasks); returns a token for reset."""
    return _request_id.set(value)


class RequestIDMiddleware:
    """Take a well-formed X-Request-ID from the proxy or make one; echo it in the response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request.id = incoming if _VALID_ID.match(incoming) else uuid.uuid4().hex
        token = _request_id.set(request.id)
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
        response["X-Request-ID"] = request.id
        return response


class ContentSecurityPolicyMiddleware:
    """A strict CSP on every response: no inline script or style anywhere in the console."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", content_security_policy(request))
        return response


class RequestIDLogFilter(logging.Filter):
    def filter(self, record):
        record.request_id = _request_id.get()
        return True
