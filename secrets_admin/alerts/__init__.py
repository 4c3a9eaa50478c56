"""Alerts: email, Slack and PagerDuty channels, routed by severity, delivered from Celery.

Other code calls `secrets_admin.alerts.services.raise_alert` / `resolve_alert` with an event
name from `secrets_admin.alerts.events`; nothing else.
"""
