"""Starting and cancelling rotation runs: short audited transactions, the work is queued after commit."""

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from secrets_admin.accounts.stepup import verify_step_up
from secrets_admin.audit.services import actor_name, record
from secrets_admin.inventory.models import Secret
from secrets_admin.rotation import actions
from secrets_admin.rotation.models import RotationRun
from secrets_admin.rotation.strategies import UnknownStrategy, get_strategy


class RotationRefused(Exception):
    """A run cannot start; the message says why in words (CLI exit 2, a form error, a 4xx)."""


class RunAlreadyActive(RotationRefused):
    def __init__(self, run: RotationRun):
        super().__init__(
            f"{run.secret} already has an active rotation run (#{run.pk}, {run.get_state_display()})"
        )
        self.run = run


class PolicyForbids(RotationRefused):
    """No policy, a strategy that cannot rotate this secret, or a secret missing in its backend."""


def rotate_now_purpose(secret_id: int) -> str:
    """The step-up purpose of "Rotate now": a code is bound to the one secret it was typed for."""
    return f"rotation.rotate_now:{secret_id}"


def effective_policy(secret: Secret):
    """The policy the secret follows: the schedule app's effective policy (overrides applied;
    it also carries overlap_hours, grace_hours, max_attempts) when installed, else its own."""
    try:
        from secrets_admin.schedule.planner import effective_policy as planned
    except ImportError:
        return secret.rotation_policy
    return planned(secret)


def policy_strategy(secret: Secret) -> str:
    """The strategy the secret's effective policy names; PolicyForbids when it has none."""
    policy = effective_policy(secret)
    if policy is None:
        raise PolicyForbids(f"{secret} has no rotation policy; give it one first")
    return _policy_strategy(secret, policy)


def _policy_strategy(secret: Secret, policy) -> str:
    if settings.SECRET_BACKENDS.get(secret.backend, {}).get("kind") == "sealed":
        return "reseal"  # a SealedSecret in Git rotates only by re-sealing; the policy gives the when
    return policy.strategy


def check_rotatable(secret: Secret, strategy: str | None = None, policy=None) -> str:
    """The strategy name that will rotate `secret`; PolicyForbids (in words) when none can.
    `policy`: its effective policy, when the caller has it already."""
    if secret.status == "missing":
        raise PolicyForbids(f"{secret} is missing in its backend; nothing to rotate")
    if strategy is None and policy is None:
        policy = effective_policy(secret)
    if strategy is None and policy is None:
        raise PolicyForbids(f"{secret} has no rotation policy; give it one first")
    name = strategy or _policy_strategy(secret, policy)
    try:
        refusal = get_strategy(name).applies_to(secret)
    except UnknownStrategy as exc:
        raise PolicyForbids(str(exc)) from None
    if refusal:
        raise PolicyForbids(f"{secret} cannot be rotated by the {name} strategy: {refusal}")
    return name


def start_run(
    secret: Secret, *, actor, reason: str, code: str | None = None, strategy: str | None = None, request=None
) -> RotationRun:
    """Create a pending run for `secret` and queue its first step after commit.

    `code` (a one-time code) is required for people pressing "Rotate now" and is bound to this
    secret. Raises RunAlreadyActive (the database's one-active-run constraint decides, so ten
    concurrent calls make one run), PolicyForbids, or StepUpFailed.
    """
    policy = effective_policy(secret)
    name = check_rotatable(secret, strategy, policy)
    with transaction.atomic():
        if code is not None:
            verify_step_up(actor, code, purpose=rotate_now_purpose(secret.pk), request=request)
        try:
            with transaction.atomic():
                run = RotationRun.objects.create(
                    secret=secret,
                    strategy=name,
                    reason=reason,
                    actor=actor if getattr(actor, "is_authenticated", False) else None,
                    actor_name=actor_name(actor),
                    max_attempts=int(getattr(policy, "max_attempts", None) or settings.ROTATION_MAX_ATTEMPTS),
                    # Fixed when the run starts, like its strategy: later policy edits apply to later runs.
                    state_data={"overlap_hours": _overlap_hours(policy)},
                )
        except IntegrityError:
            active = RotationRun.objects.filter(secret=secret, state__in=RotationRun.ACTIVE).first()
            if active is None:  # it ended between the insert and this read: say so plainly
                raise RotationRefused(f"{secret} was being rotated just now; try again") from None
            raise RunAlreadyActive(active) from None
        record(
            actions.RUN_STARTED,
            actor=actor,
            target=run,
            data={"secret": str(secret), "strategy": name, "reason": reason, "token": run.token},
            request=request,
        )
        transaction.on_commit(lambda: _enqueue(run.pk))
    return run


def do_rotate_now(secret_id: int, *, actor, code: str, request=None) -> RotationRun:
    """ "Rotate now" by a person (security-team; the view checks the group): step-up bound to
    the secret. Raises Secret.DoesNotExist, RotationRefused, StepUpFailed."""
    secret = Secret.objects.get(pk=secret_id)
    return start_run(secret, actor=actor, reason=RotationRun.Reason.ROTATE_NOW, code=code, request=request)


def do_cancel(run_id: int, *, actor, request=None) -> bool:
    """Cancel an active run (it stops before its next step; a step in flight completes, its
    result is ignored). Returns False if the run was no longer active."""
    with transaction.atomic():
        changed = RotationRun.objects.filter(pk=run_id, state__in=RotationRun.ACTIVE).update(
            state=RotationRun.State.CANCELLED,
            finished_at=timezone.now(),
            lease_owner="",
            lease_expires_at=None,
        )
        if changed:
            run = RotationRun.objects.get(pk=run_id)
            record(actions.RUN_CANCELLED, actor=actor, target=run, data={"step": run.step}, request=request)
    return bool(changed)


def overlap_hours(secret: Secret) -> float:
    """Blue-green's overlap for a run of `secret` started now (start_run stores it in the run)."""
    return _overlap_hours(effective_policy(secret))


def _overlap_hours(policy) -> float:
    """Blue-green's overlap: the effective policy's (schedule's policy settings), else the setting."""
    hours = getattr(policy, "overlap_hours", None)
    return float(settings.ROTATION_OVERLAP_HOURS if hours is None else hours)


def _enqueue(run_id: int) -> None:
    from secrets_admin.rotation.tasks import advance

    advance.delay(run_id)
