from django.utils.functional import SimpleLazyObject


def banner(request):
    """`disabled_alert_channels`: channels a permanent error turned off (lazy: queried only by
    pages that show the banner, i.e. for the security team)."""

    def disabled():
        from secrets_admin.alerts.models import Channel

        return list(Channel.objects.filter(enabled=False).exclude(disabled_reason="").order_by("name"))

    return {"disabled_alert_channels": SimpleLazyObject(disabled)}
