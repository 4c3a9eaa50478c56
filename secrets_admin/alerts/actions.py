"""Audit action names the alerts app writes (registered with the ledger at start-up)."""

from secrets_admin.audit.actions import register

ALERT_RAISED = register(
    "alerts.alert.raised", "A new alert opened (event, severity, condition key in the data)"
)
ALERT_ESCALATED = register("alerts.alert.escalated", "An open alert was raised again with a higher severity")
ALERT_RENOTIFIED = register(
    "alerts.alert.renotified", "An alert still open after the re-notify interval was sent again"
)
ALERT_RESOLVED = register("alerts.alert.resolved", "An alert's condition cleared")
DELIVERY_SENT = register("alerts.delivery.sent", "An alert message reached its channel")
DELIVERY_FAILED = register(
    "alerts.delivery.failed", "An alert message could not be delivered (retries used up, or refused)"
)
CHANNEL_CREATED = register("alerts.channel.created", "Someone added an alert channel")
CHANNEL_UPDATED = register(
    "alerts.channel.updated", "Someone changed an alert channel (fields in the data, never its secret)"
)
CHANNEL_DISABLED = register(
    "alerts.channel.disabled", "An alert channel was disabled after its service refused for good"
)
ROUTING_UPDATED = register("alerts.routing.updated", "Someone changed which severities go to which channels")
TEST_REQUESTED = register("alerts.test.requested", "Someone sent a test alert to a channel")
