"""What every rotation strategy implements: four idempotent steps keyed by the run token.

The engine (secrets_admin.rotation.services.engine) calls one step at a time, outside any database
transaction, holding only the run's lease. A step may be re-run after a crash at any point in it,
so each one first looks at the backend (or target) for what the run token already did.

Values never leave the step that needs them: the pending value lives only in the backend (a KV v2
version, AWSPENDING); a step reads it, uses it, drops it. `state` holds JSON facts only (version
ids, CAS versions, serial numbers), and it is stored in the database and shown on the run page.
"""

from dataclasses import dataclass, field

STEPS = ("create", "set", "test", "finish")


class StepFailed(Exception):
    """A step could not do its work. `reason` is words a person can act on and never a value.
    permanent=True: retrying cannot help (the provider refused the key, the policy forbids);
    the run then stops at once and needs a person."""

    def __init__(self, reason: str, *, permanent: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


@dataclass
class StepContext:
    run: object  # RotationRun: read-only for the strategy; the engine saves it
    secret: object  # inventory Secret
    backend: object  # SecretBackend, get_backend(secret.backend)
    token: str  # run.token: the idempotency key of every backend write
    state: dict = field(default_factory=dict)  # run.state_data: JSON facts, never values


class Strategy:
    """Base class. Subclasses set `name` and implement the four steps; each must be idempotent."""

    name = ""
    # Hours both the old and the new value stay valid before the old is retired (blue-green).
    overlap_hours = 0

    def applies_to(self, secret) -> str | None:
        """None if this strategy can rotate `secret`, else the reason it cannot, in words."""
        return None

    def create(self, ctx: StepContext) -> None:
        """Make the new value in the backend, as pending (not yet what readers get)."""
        raise NotImplementedError

    def set(self, ctx: StepContext) -> None:
        """Install the new value where it is used (the target, the provider)."""
        raise NotImplementedError

    def test(self, ctx: StepContext) -> None:
        """Prove the new value works (a real login with it)."""
        raise NotImplementedError

    def finish(self, ctx: StepContext) -> None:
        """Promote the new value to current, retire (or schedule retiring) the old one; set
        ctx.state["new_version_id"]."""
        raise NotImplementedError

    def retire(self, ctx: StepContext) -> None:
        """After the overlap (the retire beat, for runs with `retire_after`): revoke the old value
        (state["retire_version_id"]). Idempotent. Strategies without an overlap need not define it."""

    def step(self, name: str):
        if name not in STEPS:
            raise ValueError(f"{name!r} is not a rotation step")
        return getattr(self, name)
