"""Alerts: the list, routing and channels."""

from tests.matrix.roles import SECURITY_TEAM_ONLY, every

# alerts: security-team edits (with a code), cto and managers read
ALERT_READERS = every(403, anonymous=302, no_device=302, security_team=200, cto=200, managers=200)


def _alert_channel(suffix=""):
    from secrets_admin.alerts.models import Channel

    channel, _ = Channel.objects.get_or_create(
        name="Matrix email", defaults={"kind": "email", "config": {"addresses": ["m@candlefish.example"]}}
    )
    return f"/alerts/channels/{channel.pk}/{suffix}"


def _alert():
    from secrets_admin.alerts import events
    from secrets_admin.alerts.services import raise_alert

    return raise_alert(events.TEST, key="matrix", subject="matrix").get_absolute_url()


URLS = [
    ("/alerts/", ALERT_READERS),
    ("/alerts/", every(403, anonymous=302, no_device=302, security_team=405, cto=405, managers=405), "post"),
    (_alert, ALERT_READERS),
    ("/alerts/routing/", SECURITY_TEAM_ONLY),
    ("/alerts/routing/", every(403, anonymous=302, no_device=302, security_team=400), "post"),  # no code
    ("/alerts/channels/new/slack/", SECURITY_TEAM_ONLY),
    ("/alerts/channels/new/slack/", every(403, anonymous=302, no_device=302, security_team=400), "post"),
    (_alert_channel, ALERT_READERS),
    (lambda: _alert_channel("edit/"), SECURITY_TEAM_ONLY),
    (lambda: _alert_channel("edit/"), every(403, anonymous=302, no_device=302, security_team=400), "post"),
    (
        lambda: _alert_channel("test/"),
        every(403, anonymous=302, no_device=302, security_team=405),
    ),  # POST only
    (lambda: _alert_channel("test/"), every(403, anonymous=302, no_device=302, security_team="../"), "post"),
]
