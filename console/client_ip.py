"""The client's IP address: the one reading of it that the audit ledger, the login lockout
(django-axes) and allauth's rate limits share.

`settings.TRUSTED_PROXIES` says who may speak for the client in X-Forwarded-For:

- `0` (unset): nobody. REMOTE_ADDR is the client and X-Forwarded-For is ignored, since any
  client can write that header.
- a hop count `N`: N reverse proxies stand in front of the console, and each appends the address
  it received the request from. Read from the right, the Nth address is the client; what the
  client itself put further left is never read.
- CIDRs (`["10.0.0.0/8", "192.0.2.7/32"]`): the proxies' own addresses. Starting at REMOTE_ADDR
  and walking X-Forwarded-For from the right, the first address outside those networks is the
  client. A request that did not come through a trusted proxy keeps its REMOTE_ADDR.

`parse_trusted_proxies` turns the TRUSTED_PROXIES environment variable into that setting.
"""

import ipaddress
from functools import lru_cache

from django.conf import settings


def parse_trusted_proxies(text: str | None) -> int | list[str]:
    """'' → 0; '2' → 2; '10.0.0.0/8, 192.0.2.7' → ['10.0.0.0/8', '192.0.2.7/32'].
    Raises ValueError for anything else (a negative count, a malformed network)."""
    text = (text or "").strip()
    if not text:
        return 0
    if text.isdigit():
        return int(text)
    return [str(ipaddress.ip_network(part.strip(), strict=False)) for part in text.split(",") if part.strip()]


@lru_cache(maxsize=8)
def _networks(cidrs: tuple[str, ...]):
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)


def _address(text: str):
    text = text.strip()
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:443"
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # "192.0.2.1:443"
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def client_ip(request) -> str:
    """The client's address as text ('' when even REMOTE_ADDR is missing or malformed)."""
    if request is None:
        return ""
    peer = _address(request.META.get("REMOTE_ADDR", ""))
    if peer is None:
        return ""
    trusted = getattr(settings, "TRUSTED_PROXIES", 0) or 0
    forwarded = [hop for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    if not trusted or not forwarded:
        return str(peer)
    if isinstance(trusted, int):
        # Fewer entries than proxies: the request skipped the outer ones; its leftmost entry was
        # still written by a proxy we trust.
        chosen = _address(forwarded[-min(trusted, len(forwarded))])
        return str(chosen) if chosen is not None else str(peer)
    networks = _networks(tuple(trusted))
    client = peer
    for hop in reversed(forwarded):
        if not any(client in network for network in networks):
            break  # `client` did not come from a trusted proxy: it is the client
        address = _address(hop)
        if address is None:
            break  # a trusted proxy passed on garbage: the proxy is as far as we can vouch
        client = address
    return str(client)
