"""The alerts HTTP helper: the one place alert code talks HTTP itself (Slack goes through
slack_sdk). No redirects are followed (a webhook that redirects is misconfigured), and every
transport failure becomes a temporary DeliveryError naming the host, never the full URL."""

from dataclasses import dataclass
from urllib.parse import urlsplit

from secrets_admin.alerts.transports.base import DeliveryError

USER_AGENT = "Candlefish-Console-Alerts/1"


@dataclass(frozen=True)
class Response:
    status: int
    text: str


def post_json(url: str, payload: dict, *, timeout: float = 10) -> Response:
    import requests

    host = urlsplit(url).hostname or "?"
    try:
        response = requests.post(
            url, json=payload, timeout=timeout, allow_redirects=False, headers={"User-Agent": USER_AGENT}
        )
    except requests.RequestException as exc:
        raise DeliveryError(f"could not reach {host}: {type(exc).__name__}", permanent=False) from None
    return Response(status=response.status_code, text=response.text[:2000])
