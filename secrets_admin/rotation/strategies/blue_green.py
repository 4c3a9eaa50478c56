"""Blue-green for API keys in KV v2 and AWS: the new key is made beside the old, both stay valid
through the overlap window, then the old one is retired.

    create   a new value, staged as the run's pending value (KV staging / AWSPENDING)
    set      the rotation hook: the provider fetches the pending key and starts accepting it
    test     the rotation hook: the provider logs in with the pending key
    finish   promote: readers now get the new key (KV check-and-set / AWSCURRENT); the old
             version is kept (KV marked deprecated / AWSPREVIOUS) until `retire_after`
    retire   (the retire beat, after the overlap) the hook revokes the old key at the provider,
             then KV destroys the old version / AWS takes AWSPREVIOUS off it

A secret with no hook is rotated as a plain value: set has nothing to tell, test reads the
pending value back, and the secret's page says its consumers must re-read it.
"""

from django.conf import settings

from secrets_admin.backends.passwords import generate
from secrets_admin.rotation import hooks
from secrets_admin.rotation.strategies.base import StepFailed, Strategy

KINDS = ("api_key", "generic", "password")


class BlueGreen(Strategy):
    name = "blue-green"

    def applies_to(self, secret) -> str | None:
        if secret.kind not in KINDS:
            return (
                f"it is a {secret.get_kind_display().lower()}, and blue-green rotates generated values only"
            )
        kind = settings.SECRET_BACKENDS.get(secret.backend, {}).get("kind")
        if kind == "aws":
            return None
        if kind == "vault":
            mount = settings.SECRET_BACKENDS[secret.backend].get("kv_mount") or "secret"
            return None if secret.path.startswith(f"{mount}/") else "only KV v2 keys rotate in OpenBao/Vault"
        return f"its backend {secret.backend!r} holds no values the console can rotate"

    def create(self, ctx):
        path = ctx.secret.path
        base = ctx.backend.current_version(path)
        value = generate(ctx.secret.kind, backend=ctx.backend.name)
        try:
            pending = ctx.backend.write_pending(path, value, token=ctx.token, cas=base)
        finally:
            del value
        ctx.state.update(
            base_version=base,
            pending_version=pending,
            pending=ctx.backend.pending_location(path),
            hook=hooks.hook_for(ctx.secret) is not None,
        )

    def set(self, ctx):
        hook = hooks.hook_for(ctx.secret) if ctx.state.get("hook", True) else None  # decided at create
        if hook is None:
            ctx.state["consumers_must_reread"] = True
            return
        self._call(hook, "set", ctx, ctx.state["pending_version"])

    def test(self, ctx):
        hook = hooks.hook_for(ctx.secret) if ctx.state.get("hook", True) else None
        if hook is None:
            if not ctx.backend.read_pending(ctx.secret.path, token=ctx.token):
                raise StepFailed("the pending value reads back empty", permanent=True)
            return
        self._call(hook, "test", ctx, ctx.state["pending_version"])

    def finish(self, ctx):
        version = ctx.backend.promote(ctx.secret.path, token=ctx.token)
        ctx.state.update(
            new_version_id=version,
            retire_version_id=ctx.state.get("base_version"),
            overlap_hours=overlap_hours(ctx.secret),
        )

    def retire(self, ctx):
        old = ctx.state.get("retire_version_id")
        if not old:
            return
        hook = hooks.hook_for(ctx.secret)
        if hook is not None:
            self._call(hook, "retire", ctx, old)
        ctx.backend.retire(ctx.secret.path, old)

    @staticmethod
    def _call(hook, step, ctx, version_id):
        hooks.call(
            hook, step, run_token=ctx.token, secret=ctx.secret, version_id=version_id,
            pending=ctx.state.get("pending", ""),
        )  # fmt: skip


def overlap_hours(secret) -> float:
    """The effective policy's overlap (the schedule's policy settings or the secret's override;
    ROTATION_OVERLAP_HOURS until someone edits it), else the setting."""
    from secrets_admin.schedule.planner import effective_policy

    policy = effective_policy(secret)
    return float(settings.ROTATION_OVERLAP_HOURS if policy is None else policy.overlap_hours)
