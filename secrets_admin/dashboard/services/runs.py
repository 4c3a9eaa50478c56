"""The list behind the success-rate tiles and the trend chart: runs that ended in a window."""

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
