"""The lists behind the tiles: runs that ended in a window (the success rates and the trend),
and the privileged people with or without an authenticator (MFA coverage)."""

from django.db.models import Count, Q

from secrets_admin.rotation.models import RotationRun

SHOWN = 200


def ended_runs(low, high, outcome: str = ""):
    """Runs that ended (finished, failed or left for a person) in [low, high), by outcome,
    newest first: a range scan of the (finished_at, state) index."""
    state = RotationRun.State
    states = {
        "finished": (state.FINISHED,),
        "failed": (state.FAILED, state.NEEDS_PERSON),
    }.get(outcome, (state.FINISHED, state.FAILED, state.NEEDS_PERSON))
    return RotationRun.objects.filter(finished_at__gte=low, finished_at__lt=high, state__in=states)


def page(low, high, outcome: str = "") -> dict:
    runs = ended_runs(low, high, outcome)
    counts = ended_runs(low, high).aggregate(
        ended=Count("id"), finished=Count("id", filter=Q(state=RotationRun.State.FINISHED))
    )
    shown = list(runs.select_related("secret").order_by("-finished_at", "-id")[:SHOWN])
    return {"runs": shown, "total": runs.count(), "shown": SHOWN, **counts}


PEOPLE_SHOWN = 500


def privileged_people() -> dict:
    """Privileged people, those without a confirmed authenticator first: names and groups only."""
    from django.db.models import Exists, OuterRef

    from secrets_admin.accounts.models import AuthenticatorDevice
    from secrets_admin.dashboard.services.headline import privileged_people as privileged

    device = AuthenticatorDevice.objects.filter(user_id=OuterRef("pk"), confirmed=True)
    people = (
        privileged()
        .annotate(has_authenticator=Exists(device))
        .prefetch_related("groups")
        .order_by("has_authenticator", "username")
    )
    return {"people": list(people[:PEOPLE_SHOWN]), "shown": PEOPLE_SHOWN}
