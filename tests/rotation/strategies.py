"""A strategy for engine tests: touches no backend, counts each step's calls in the run state,
and fails on demand (`Counting.failures[step] = [StepFailed(...), ...]`, consumed in order)."""

from secrets_admin.rotation.strategies.base import StepFailed, Strategy


class Counting(Strategy):
    name = "counting"
    failures: dict[str, list] = {}

    def _count(self, ctx, step):
        queued = self.failures.get(step)
        if queued:
            raise queued.pop(0)
        ctx.state[f"{step}_calls"] = ctx.state.get(f"{step}_calls", 0) + 1

    def create(self, ctx):
        self._count(ctx, "create")

    def set(self, ctx):
        self._count(ctx, "set")

    def test(self, ctx):
        self._count(ctx, "test")

    def finish(self, ctx):
        self._count(ctx, "finish")
        ctx.state["new_version_id"] = "v-" + ctx.token[:6]


__all__ = ["Counting", "StepFailed"]
