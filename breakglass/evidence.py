"""The evidence of one request, as a page and as a JSON export: the request, its approvals with
their MFA proof, the grant, the session timeline, the rotations queued and the alerts raised.
Metadata only: the token itself is never part of it (the console does not keep it)."""

from django.db import transaction
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from breakglass import actions, forms
from breakglass.models import AccessRequest, Grant
from secrets_admin.accounts.access import require_groups, user_in
from secrets_admin.audit.services import record
from secrets_admin.roles import CTO, MANAGERS, SECURITY_TEAM

READERS = (SECURITY_TEAM, CTO, MANAGERS)


def collect(access: AccessRequest) -> dict:
    from secrets_admin.alerts.models import Alert

    grant = Grant.objects.filter(request=access).first()
    approvals = [
        {
            "group": a.group,
            "approver": a.approver_name,
            "at": a.created_at.isoformat(),
            "request_hash": a.request_hash,
            "voided_at": a.voided_at.isoformat() if a.voided_at else None,
            "mfa": {
                "purpose": a.used_code.purpose if a.used_code else None,
                "device": a.used_code.device_id if a.used_code else None,
                "time_step": a.used_code.step if a.used_code else None,
                "used_at": a.used_code.used_at.isoformat() if a.used_code else None,
            },
        }
        for a in access.approvals.select_related("used_code")
    ]
    doc = {
        "request": {
            "id": access.pk,
            "kind": access.kind,
            "requester": access.requester_name,
            "reason": access.reason,
            "ticket": access.ticket,
            "scope": access.scope,
            "duration_seconds": access.duration_seconds,
            "groups": access.groups,
            "record_session": access.record_session,
            "status": access.status,
            "request_hash": access.request_hash,
            "created_at": access.created_at.isoformat(),
            "approved_at": access.approved_at.isoformat() if access.approved_at else None,
            "denied_by": access.denied_by.get_username() if access.denied_by else None,
        },
        "approvals": approvals,
        "grant": None,
        "timeline": [],
        "rotations": [],
        "review": None,
        "alerts": [],
    }
    targets = [("breakglass.accessrequest", str(access.pk))]
    if grant is not None:
        doc["grant"] = {
            "id": grant.pk,
            "state": grant.state,
            "accessor": grant.accessor,
            "policy": grant.policy_name,
            "issued_at": _iso(grant.issued_at),
            "expires_at": _iso(grant.expires_at),
            "revealed_at": _iso(grant.revealed_at),
            "ended_at": _iso(grant.ended_at),
            "ended_by": grant.ended_by_name,
            "end_reason": grant.end_reason,
            "token_gone_at": _iso(grant.token_gone_at),
        }
        doc["timeline"] = [
            {
                "at": e.at.isoformat(),
                "path": e.path,
                "operation": e.operation,
                "result": e.result,
                "client_address": e.client_address,
            }
            for e in grant.events.all()
        ]
        doc["rotations"] = [
            {"path": r.path, "state": r.state, "run": r.run_id, "queued_at": r.queued_at.isoformat()}
            for r in grant.rotations.all()
        ]
        review = getattr(grant, "review", None)
        if review is not None:
            doc["review"] = {
                "id": review.pk,
                "opened_at": review.opened_at.isoformat(),
                "notes": review.notes,
                "signed_off_by": review.signed_off_by_name,
                "signed_off_at": _iso(review.signed_off_at),
                "escalated_at": _iso(review.escalated_at),
            }
            targets.append(("breakglass.incidentreview", str(review.pk)))
        targets.append(("breakglass.grant", str(grant.pk)))
    for target_type, target_id in targets:
        for alert in Alert.objects.filter(target_type=target_type, target_id=target_id).order_by("pk"):
            doc["alerts"].append(
                {
                    "event": alert.event,
                    "severity": alert.severity,
                    "subject": alert.subject,
                    "opened_at": _iso(
                        getattr(alert, "opened_at", None) or getattr(alert, "created_at", None)
                    ),
                }
            )
    return doc


def _iso(value):
    return value.isoformat() if value else None


@require_groups(*READERS)
@require_GET
def page(request, pk):
    access = get_object_or_404(AccessRequest, pk=pk)
    doc = collect(access)
    grant = Grant.objects.filter(request=access).first()
    review = getattr(grant, "review", None) if grant else None
    context = {
        "access": access,
        "doc": doc,
        "grant": grant,
        "review": review,
        "may_review": user_in(request.user, SECURITY_TEAM),
        "notes_form": forms.ReviewNotesForm(initial={"notes": review.notes if review else ""}),
        "code_form": forms.CodeForm(),
    }
    return render(request, "breakglass/evidence.html", context)


@require_groups(*READERS)
@require_GET
def export(request, pk):
    access = get_object_or_404(AccessRequest, pk=pk)
    doc = collect(access)
    with transaction.atomic():
        record(
            actions.EVIDENCE_EXPORTED,
            actor=request.user,
            target=access,
            data={"format": "json"},
            request=request,
        )
    response = JsonResponse(doc, json_dumps_params={"indent": 2})
    response["Content-Disposition"] = f'attachment; filename="access-request-{access.pk}-evidence.json"'
    return response
