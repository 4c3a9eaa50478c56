"""Rolling for passwords in KV v2 and AWS: the login's password is replaced in place on its
target (a PostgreSQL named by the secret's `target` / `target_login` tags), with no overlap.

    create   a new password, staged as the run's pending value (KV staging / AWSPENDING)
    set      the login changes its own password on the target to the pending one (logged in
             with the current one); a re-run finds the pending one already logs in, and stops
    test     a fresh login with the pending password succeeds
    finish   the old password is refused by the target, then the pending value is promoted
             (KV check-and-set / AWSCURRENT): the stored value and the target agree again

Between set and finish the target has the new password and readers still get the old one: the
strategy's price, and why finish follows at once. A refusal at set (the target refuses the
current password, or the change) stops the run there: the old password is still current in both
places and nothing is promoted. A password with no target tags is rotated as a plain value, and
its page says its consumers must re-read it.
"""

from django.conf import settings

from secrets_admin.backends.base import BackendError
from secrets_admin.backends.passwords import generate
from secrets_admin.backends.postgres_target import target_of
from secrets_admin.rotation.strategies.base import StepFailed, Strategy


class Rolling(Strategy):
    name = "rolling"

    def applies_to(self, secret) -> str | None:
        if secret.kind != "password":
            return f"it is a {secret.get_kind_display().lower()}, and rolling rotates passwords"
        config = settings.SECRET_BACKENDS.get(secret.backend, {})
        if config.get("kind") == "vault":
            mount = config.get("kv_mount") or "secret"
            return None if secret.path.startswith(f"{mount}/") else "only KV v2 keys rotate in OpenBao/Vault"
        if config.get("kind") == "aws":
            return None
        return f"its backend {secret.backend!r} holds no values the console can rotate"

    def create(self, ctx):
        base = ctx.backend.current_version(ctx.secret.path)
        value = generate("password", backend=ctx.backend.name)
        try:
            pending = ctx.backend.write_pending(ctx.secret.path, value, token=ctx.token, cas=base)
        finally:
            del value
        target = _target(ctx.secret)
        ctx.state.update(
            base_version=base,
            pending_version=pending,
            target=target[0].name if target else "",
            login=target[1] if target else "",
        )

    def set(self, ctx):
        target = _target(ctx.secret)
        if target is None:
            ctx.state["consumers_must_reread"] = True
            return
        target, login = target
        new = ctx.backend.read_pending(ctx.secret.path, token=ctx.token)
        try:
            if target.login_works(login, new):
                ctx.state["already_set"] = True  # a re-run after a crash: the target has it
                return
            current = ctx.backend.read_current(ctx.secret.path)
            try:
                target.change_own_password(login, current, new)
            finally:
                del current
        except BackendError as exc:
            if exc.reason == "login refused":
                raise StepFailed(
                    f"{target.name} refused {login}'s login with the current password: the stored "
                    "value and the target disagree, so nothing was changed",
                    permanent=True,
                ) from None
            if exc.reason == "change refused":
                words = f"{target.name} refused to change {login}'s password"
                raise StepFailed(words, permanent=True) from None
            raise
        finally:
            del new

    def test(self, ctx):
        target = _target(ctx.secret)
        new = ctx.backend.read_pending(ctx.secret.path, token=ctx.token)
        try:
            if target is None:
                if not new:
                    raise StepFailed("the pending value reads back empty", permanent=True)
                return
            target, login = target
            if not target.login_works(login, new):
                raise StepFailed(f"{target.name} refused a fresh login as {login} with the new password")
        finally:
            del new

    def finish(self, ctx):
        path, target = ctx.secret.path, _target(ctx.secret)
        if target is not None and not _promoted(ctx):
            target, login = target
            old = ctx.backend.read_current(path)
            try:
                if target.login_works(login, old):
                    raise StepFailed(
                        f"{target.name} still accepts {login}'s old password; the new one was not promoted",
                        permanent=True,
                    )
            finally:
                del old
            ctx.state["old_refused"] = True
        ctx.state["new_version_id"] = ctx.backend.promote(path, token=ctx.token)


def _target(secret):
    """(PostgresTarget, login) from the secret's tags, None without; a misnamed target is a
    permanent StepFailed in words."""
    try:
        return target_of(secret.tags)
    except BackendError as exc:
        raise StepFailed(str(exc), permanent=True) from None


def _promoted(ctx) -> bool:
    """Has this run's value already been promoted (a re-run of finish after a crash)? KV drops
    the staging on promotion; AWS keeps the version, which is then current."""
    try:
        new = ctx.backend.read_pending(ctx.secret.path, token=ctx.token)
    except BackendError as exc:
        if exc.reason == "not found":
            return True
        raise
    try:
        return ctx.backend.current_version(ctx.secret.path) == ctx.state.get("pending_version") and (
            ctx.backend.read_current(ctx.secret.path) == new
        )
    finally:
        del new
