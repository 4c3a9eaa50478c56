"""Rotation by re-sealing: the four steps for secrets kept as SealedSecrets in Git.

- create: generate a new value for every key of the manifest and seal it for the newest
  certificate (kubeseal's format), then commit the manifest on a branch named for the run, with
  the run in the message. Sealing and committing are one step because the value must not outlive
  the step that made it (it is never in `state`, the database or a log): the run branch is the
  pending version, kept in the backend as the engine's contract asks.
- set: publish the run branch (push it to the remote, where one is configured, so reviewers and
  CI see the change before it lands).
- test: with a private key configured (demo, tests) every value of the commit unseals under the
  manifest's scope; otherwise the manifest is checked for schema, certificate and key size.
- finish: fast-forward the target branch to the run's commit and push it; the new version id
  is that commit.

Every step is idempotent by the run token (`candlefish-run=<token>` in the commit message).
The `Reseal` strategy (secrets_admin.rotation.strategies.reseal) is this class on the engine's base.
"""

from django.conf import settings

from secrets_admin.backends import sealed_certs, sealed_reseal
from secrets_admin.backends.base import BackendError

GENERATED_KINDS = ("api_key", "password", "generic")


class ResealSteps:
    name = "reseal"

    def applies_to(self, secret) -> str | None:
        conf = settings.SECRET_BACKENDS.get(secret.backend) or {}
        if conf.get("kind") != "sealed":
            return "it is not kept as a SealedSecret in Git"
        if secret.kind not in GENERATED_KINDS:
            return f"the console cannot generate a {secret.kind} value"
        try:
            if sealed_certs.newest() is None:
                return "no valid sealing certificate is configured (SEALED_CERTIFICATES)"
        except BackendError as exc:
            return f"the sealing certificates cannot be read ({exc})"
        return None

    def title(self, ctx) -> str:
        return f"Re-seal {ctx.secret.name} (rotation run {ctx.run.pk}, reason {ctx.run.reason})"

    def create(self, ctx) -> None:
        facts = sealed_reseal.seal_on_branch(
            ctx.backend, ctx.secret.path, kind=ctx.secret.kind, token=ctx.token, title=self.title(ctx)
        )
        ctx.state.update(facts)

    def set(self, ctx) -> None:
        ctx.state["published"] = sealed_reseal.publish(ctx.backend, ctx.token)

    def test(self, ctx) -> None:
        commit = sealed_reseal.run_commit(ctx.backend, ctx.token)
        if commit is None:
            raise BackendError("the run's commit is gone from its branch", permanent=True, reason="not found")
        ctx.state.update(sealed_reseal.check_commit(ctx.backend, ctx.secret.path, commit))

    def finish(self, ctx) -> None:
        head = sealed_reseal.fast_forward(
            ctx.backend, ctx.secret.path, token=ctx.token, title=self.title(ctx)
        )
        ctx.state["new_version_id"] = head
