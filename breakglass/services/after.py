"""After the glass is broken: every secret read during a break-glass grant is queued for rotation
("assume breach"), a post-incident review opens, and a review left unsigned escalates."""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from breakglass import actions
from breakglass.models import BreachRotation, Grant, IncidentReview
from breakglass.services.common import Refused, audited_refusals
from secrets_admin.accounts.access import user_in
from secrets_admin.accounts.stepup import verify_step_up
from secrets_admin.audit.services import record
from secrets_admin.roles import SECURITY_TEAM

log = logging.getLogger(__name__)
SYSTEM = "celery:breakglass"


def read_secrets(grant: Grant) -> dict[str, int]:
    """{inventory path: secret id} of the scope's secrets the token read successfully (all of the
    scope when the session was not recorded)."""
    from secrets_admin.backends import get_backend
    from secrets_admin.backends.vault_tokens import grant_paths

    if not grant.request.record_session:  # nothing was recorded: assume every path was read
        return {item["path"]: item["secret"] for item in grant.request.scope}
    backend = get_backend(grant.backend)
    by_api_path = {}  # several certificates share the grant role's issue path
    for item in grant.request.scope:
        for api_path in grant_paths(backend, item["path"]):
            by_api_path.setdefault(api_path, []).append((item["path"], item["secret"]))
    read = {}
    # "update" is a certificate issued under the grant (the only write a grant policy allows)
    for path in grant.events.filter(result="ok", operation__in=("read", "list", "update")).values_list(
        "path", flat=True
    ):
        for inventory_path, secret in by_api_path.get(path, ()):
            read[inventory_path] = secret
    return read


def after_the_glass(grant: Grant) -> None:
    """Inside the grant's end transaction: queue rotations, open the review (both audited)."""
    for path, secret_id in sorted(read_secrets(grant).items()):
        _, created = BreachRotation.objects.get_or_create(
            grant=grant, secret_id=secret_id, defaults={"path": path}
        )
        if created:
            record(
                actions.ROTATION_QUEUED, actor=SYSTEM, target=grant, data={"path": path, "secret": secret_id}
            )
    review, created = IncidentReview.objects.get_or_create(grant=grant)
    if created:
        record(actions.REVIEW_OPENED, actor=SYSTEM, target=review, data={"grant": grant.pk})
    transaction.on_commit(start_queued_rotations)


def start_queued_rotations() -> int:
    """Hand queued rotations to the rotation engine (a run per secret, reason "assume-breach").
    A secret already rotating stays queued for the next beat: that run may have taken its new
    value before the glass was closed. A secret the engine refuses is marked so, with why."""
    from secrets_admin.rotation.services import RotationRefused, RunAlreadyActive, start_run

    started = 0
    for job in BreachRotation.objects.filter(state=BreachRotation.QUEUED).select_related("secret")[:100]:
        try:
            run = start_run(job.secret, actor=SYSTEM, reason="assume-breach")
        except RunAlreadyActive:
            continue
        except (RotationRefused, ValidationError) as exc:
            log.warning("assume-breach rotation of %s refused: %s", job.path, exc)
            with transaction.atomic():
                BreachRotation.objects.filter(pk=job.pk, state=BreachRotation.QUEUED).update(
                    state=BreachRotation.FAILED, error=" ".join(str(exc).split())[:2000]
                )
            continue
        with transaction.atomic():
            BreachRotation.objects.filter(pk=job.pk).update(state=BreachRotation.STARTED, run_id=str(run.pk))
        started += 1
    return started


def do_review_notes(review_id: int, *, actor, notes: str, request=None) -> IncidentReview:
    with audited_refusals(actor=actor, doing="review notes", request=request):
        if not user_in(actor, SECURITY_TEAM):
            raise Refused("Only the security team reviews incidents.", why="not_allowed")
        with transaction.atomic():
            review = IncidentReview.objects.select_for_update().get(pk=review_id)
            if review.signed_off_at:
                raise Refused("This review is signed off; its notes are final.", why="signed_off")
            review.notes = str(notes or "").strip()[:20000]
            review.save(update_fields=["notes"])
            record(
                actions.REVIEW_NOTED,
                actor=actor,
                target=review,
                data={"length": len(review.notes)},
                request=request,
            )
    return review


def do_sign_off(review_id: int, *, actor, code: str, request=None) -> IncidentReview:
    with audited_refusals(actor=actor, doing="review sign-off", request=request):
        if not user_in(actor, SECURITY_TEAM):
            raise Refused("Only the security team signs off incident reviews.", why="not_allowed")
        with transaction.atomic():
            review = (
                IncidentReview.objects.select_for_update().select_related("grant__request").get(pk=review_id)
            )
            if review.signed_off_at:
                raise Refused("This review is already signed off.", why="signed_off")
            if not review.notes.strip():
                raise Refused("Write what happened in the notes before signing off.", why="no_notes")
            if review.grant.request.requester_id == actor.pk:
                raise Refused("The person who broke the glass cannot sign off its review.", why="self")
            verify_step_up(actor, code, purpose=f"breakglass.review:{review.pk}", request=request)
            review.signed_off_at = timezone.now()
            review.signed_off_by_name = actor.get_username()
            review.save(update_fields=["signed_off_at", "signed_off_by_name"])
            record(
                actions.REVIEW_SIGNED,
                actor=actor,
                target=review,
                data={"grant": review.grant_id},
                request=request,
            )
            transaction.on_commit(lambda: _resolve(review.pk))
    return review


def _resolve(review_id):
    from secrets_admin.alerts.services import resolve_alert

    with transaction.atomic():
        resolve_alert(f"breakglass.review_overdue:{review_id}", actor="breakglass")


def escalate_reviews(*, now=None) -> int:
    """Beat: reviews unsigned after BREAKGLASS_REVIEW_DAYS raise an alert (once each)."""
    from secrets_admin.alerts import events
    from secrets_admin.alerts.services import raise_alert

    cutoff = (now or timezone.now()) - timedelta(days=settings.BREAKGLASS_REVIEW_DAYS)
    escalated = 0
    for review in IncidentReview.objects.filter(
        signed_off_at__isnull=True, escalated_at__isnull=True, opened_at__lte=cutoff
    )[:100]:
        with transaction.atomic():
            if not IncidentReview.objects.filter(pk=review.pk, escalated_at__isnull=True).update(
                escalated_at=timezone.now()
            ):
                continue
            record(
                actions.REVIEW_ESCALATED,
                actor=SYSTEM,
                target=review,
                data={"days": settings.BREAKGLASS_REVIEW_DAYS},
            )
            raise_alert(
                events.BREAKGLASS_REVIEW_OVERDUE,
                subject=f"The review of break-glass grant #{review.grant_id} is not signed off after "
                f"{settings.BREAKGLASS_REVIEW_DAYS} days",
                facts={
                    "review": review.pk,
                    "grant": review.grant_id,
                    "link": settings.CONSOLE_URL.rstrip("/") + review.get_absolute_url(),
                },
                key=f"breakglass.review_overdue:{review.pk}",
                target=review,
                actor="breakglass",
            )
            escalated += 1
    return escalated
