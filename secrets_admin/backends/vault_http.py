"""The wire under VaultBackend._call: one urllib3 pool per backend and process.

hvac's adapter sends each call through `requests`, whose per-call machinery (merging session
settings, a cookie jar filled from every response, hooks, the redirect resolver) costs about as
much client CPU as the HTTP exchange itself: 0.4 ms a call against 0.2 ms here, and a KV v2
rotation is twelve calls. The requests are the same on the wire (the headers hvac's adapter
sets: X-Vault-Token, X-Vault-Request, X-Vault-Namespace) and so are the failures: an error
status raises hvac's exception for it (hvac.utils.raise_for_error as its adapter does, handed
in by vault.py: still the one module importing hvac), a network failure the `requests`
exception it would have been, so vault.py's classification of "not found", "denied",
"sealed", "unreachable" and "timed out" does not change.

Only for `trust_env: false` (the default): a connection told to trust the environment keeps
hvac's client, which honours proxies and .netrc. TLS: verified, against `ca_cert` (a file or a
folder) or certifi's bundle, as requests does; a client certificate from VAULT_CLIENT_CERT /
VAULT_CLIENT_KEY as hvac takes it.
"""

import json
import os
from urllib.parse import urlencode, urljoin

import certifi
import requests
import urllib3
import urllib3.exceptions as u3

# Network errors fail at once, as requests' adapter (Retry(0, read=False)); redirects are
# followed (hvac asks requests to: a standby OpenBao answers 307 to the active node).
_RETRIES = urllib3.Retry(total=None, connect=0, read=False, status=0, other=0, redirect=30)


class Wire:
    """`raise_for_error`: hvac.utils.raise_for_error, handed in by vault.py (the one module that
    imports hvac); `client_cert`: (cert, key) files, or None."""

    def __init__(self, config: dict, *, raise_for_error, client_cert=None):
        self._raise_for_error = raise_for_error
        self.base = config["url"].rstrip("/")
        self._prefix = urllib3.util.parse_url(self.base).path or ""  # an address with a path
        self.namespace = config.get("namespace")
        timeout = config.get("timeout", 5)
        self.timeout = urllib3.Timeout(connect=timeout, read=timeout)
        ca = config.get("ca_cert")
        tls = {"cert_reqs": "CERT_REQUIRED"}
        tls["ca_cert_dir" if ca and os.path.isdir(ca) else "ca_certs"] = ca or certifi.where()
        if client_cert and client_cert[0]:
            tls |= {"cert_file": client_cert[0], "key_file": client_cert[1]}
        self._tls = tls
        self._pools, self._pid = None, 0
        # As many kept-alive connections as a walk has reads in flight (vault.py: `workers`).
        self._size = max(10, int(config.get("workers") or 8))

    def _pair(self) -> tuple[urllib3.HTTPConnectionPool, urllib3.PoolManager]:
        """This process's pool for the configured address, and a manager for where redirects
        lead (made after a fork anew: a worker must not share its parent's sockets)."""
        if self._pid != os.getpid():
            where = urllib3.util.parse_url(self.base)
            kind = urllib3.HTTPSConnectionPool if where.scheme == "https" else urllib3.HTTPConnectionPool
            extra = self._tls if where.scheme == "https" else {}
            home = kind(where.host, where.port, maxsize=self._size, retries=_RETRIES, **extra)
            manager = urllib3.PoolManager(num_pools=4, maxsize=self._size, retries=_RETRIES, **self._tls)
            self._pools, self._pid = (home, manager), os.getpid()
        return self._pools

    def request(self, method: str, url: str, token: str | None, *, json=None, params=None, headers=None):
        """One call: the JSON of a 200 answer (None for an empty one or a 204); hvac's exception
        for an error status; the `requests` exception for a network failure."""
        sent = {"X-Vault-Request": "true"}
        if token:
            sent["X-Vault-Token"] = token
        if self.namespace:
            sent["X-Vault-Namespace"] = self.namespace
        body = None
        if json is not None:
            body = _dumps(json)
            sent["Content-Type"] = "application/json"
        sent.update(headers or {})
        query = {key: value for key, value in (params or {}).items() if value is not None}
        home, manager = self._pair()
        path = f"{self._prefix}{url}" + (f"?{urlencode(query)}" if query else "")
        full = f"{self.base}{url}"
        call = {"body": body, "headers": sent, "timeout": self.timeout, "preload_content": True}
        try:
            # The configured address's pool directly (a PoolManager would parse and look it up
            # on every call); a redirect (a standby naming the active node) goes to the manager,
            # which follows it across hosts, body and all.
            answer = home.urlopen(method, path, redirect=False, assert_same_host=False, **call)
            location = answer.get_redirect_location()
            if location:
                answer = manager.urlopen(method, urljoin(f"{self.base}{path}", location), **call)
        except u3.HTTPError as exc:
            raise _as_requests(exc) from exc
        return _result(method, full, answer, self._raise_for_error)


def _dumps(document) -> bytes:
    return json.dumps(document, allow_nan=False).encode()


def _result(method: str, url: str, answer, raise_for_error):
    status, data = answer.status, answer.data
    if status >= 400:
        text = data.decode("utf-8", "replace")
        errors = None
        if answer.headers.get("Content-Type") == "application/json":
            try:
                errors = json.loads(data).get("errors")
            except (ValueError, AttributeError):
                errors = None
        raise_for_error(method, url, status, text if errors is None else None, errors=errors, text=text)
    if status != 200 or not data:
        return None
    try:
        return json.loads(data)
    except ValueError:
        return None


def _as_requests(exc: Exception) -> Exception:
    """The exception requests would have raised for this urllib3 one (vault._explain reads it)."""
    reason = exc.reason if isinstance(exc, u3.MaxRetryError) else exc
    words = str(exc)
    if isinstance(reason, u3.NewConnectionError):  # a ConnectTimeoutError by inheritance only
        return requests.ConnectionError(words)
    if isinstance(reason, u3.ConnectTimeoutError):
        return requests.ConnectTimeout(words)
    if isinstance(reason, u3.TimeoutError):
        return requests.ReadTimeout(words)
    if isinstance(reason, u3.SSLError):
        return requests.exceptions.SSLError(words)
    if isinstance(reason, u3.ResponseError):
        return requests.exceptions.TooManyRedirects(words)
    return requests.ConnectionError(words)
