from breakglass.models.grant import Grant, SessionEvent
from breakglass.models.recording import AuditCursor
from breakglass.models.request import AccessRequest, Approval
from breakglass.models.review import BreachRotation, IncidentReview

__all__ = [
    "AccessRequest",
    "Approval",
    "AuditCursor",
    "BreachRotation",
    "Grant",
    "IncidentReview",
    "SessionEvent",
]
