"""The alerts API the rest of the console calls:

    from secrets_admin.alerts.services import raise_alert, resolve_alert
    from secrets_admin.alerts import events

    raise_alert(events.ROTATION_FAILED, subject=f"Rotation of {secret} failed at 'test'",
                facts={"run": run.pk, "step": "test"}, target=secret)
    resolve_alert(key)  # when the condition clears

See `alerting.raise_alert` / `alerting.resolve_alert` for the contract.
"""

from secrets_admin.alerts.services.alerting import alert_key, raise_alert, resolve_alert

__all__ = ["alert_key", "raise_alert", "resolve_alert"]
