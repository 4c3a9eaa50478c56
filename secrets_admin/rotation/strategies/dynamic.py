"""Dynamic for OpenBao's database engine: OpenBao owns the password, the console tells it when.

A static role (`database/static-roles/<name>`):
    create   note the role's last_vault_rotation (the run's starting point)
    set      rotate-role, unless last_vault_rotation moved past the starting point already
             (a re-run after a crash: OpenBao did it, once)
    test     a fresh login on the connection's target with the credential OpenBao now reports
    finish   the new rotation time is the new version id

A connection (`database/config/<name>`), its root credential:
    create   nothing to stage: only OpenBao ever knows the root password
    set      rotate-root (a second one after a crash mid-step is harmless: OpenBao keeps whichever
             it set last, and the target agrees with it)
    test     OpenBao can still log in as root: a credential of one of the connection's roles is
             issued (which needs the root login), used for a fresh login, and revoked
    finish   the version id is the run's token: the root password has no other name

Dynamic roles (`database/roles/<name>`) have nothing to rotate: every lease is a new login that
expires with it; the leases page lists and revokes them.
"""

from django.conf import settings

from secrets_admin.backends import vault_engines as engines
from secrets_admin.rotation.strategies.base import StepFailed, Strategy


class Dynamic(Strategy):
    name = "dynamic"

    def applies_to(self, secret) -> str | None:
        kind, name = _object(secret)
        if kind in ("static-roles", "config") and name:
            return None
        if kind == "roles":
            return "a dynamic role's credentials expire with their leases; there is nothing to rotate"
        return "dynamic rotates database static roles and connections in OpenBao/Vault"

    def create(self, ctx):
        kind, name = _object(ctx.secret)
        if kind == "static-roles":
            before = engines.static_role(ctx.backend, name)["last_vault_rotation"]
            ctx.state.setdefault("rotated_before", before.isoformat() if before else "")
        ctx.state.update(object=kind, name=name)

    def set(self, ctx):
        kind, name = _object(ctx.secret)
        if kind == "config":
            engines.rotate_root(ctx.backend, name)
            return
        now = engines.static_role(ctx.backend, name)["last_vault_rotation"]
        if now and now.isoformat() != ctx.state.get("rotated_before", ""):
            ctx.state["already_set"] = True
            return
        engines.rotate_role(ctx.backend, name)

    def test(self, ctx):
        kind, name = _object(ctx.secret)
        target = engines.connection_target(ctx.backend, self._connection(ctx, kind, name))
        if kind == "static-roles":
            user, password, rotated = engines.static_credentials(ctx.backend, name)
            try:
                works = target.login_works(user, password)
            finally:
                del password
            if not works:
                raise StepFailed(f"{target.name} refused {user}'s login with the password OpenBao reports")
            ctx.state["new_version_id"] = rotated.isoformat() if rotated else ""
            return
        role = self._a_role(ctx, name)
        lease_id, user, password = engines.dynamic_credentials(ctx.backend, role)
        try:
            works = target.login_works(user, password)
        finally:
            del password
            engines.revoke_lease(ctx.backend, lease_id)
        if not works:
            raise StepFailed(f"a credential OpenBao issued through {name} was refused by {target.name}")

    def finish(self, ctx):
        kind, name = _object(ctx.secret)
        if kind == "static-roles":
            rotated = engines.static_role(ctx.backend, name)["last_vault_rotation"]
            ctx.state["new_version_id"] = rotated.isoformat() if rotated else ctx.token
        else:
            ctx.state["new_version_id"] = ctx.token

    @staticmethod
    def _connection(ctx, kind, name) -> str:
        if kind == "config":
            return name
        return engines.static_role(ctx.backend, name)["db_name"]

    @staticmethod
    def _a_role(ctx, connection) -> str:
        allowed = engines.connection(ctx.backend, connection).get("allowed_roles") or []
        dynamic = [role for role in allowed if role != "*" and engines.is_dynamic_role(ctx.backend, role)]
        if not dynamic:
            raise StepFailed(
                f"connection {connection} has no dynamic role to prove the root login with",
                permanent=True,
            )
        return dynamic[0]


def _object(secret) -> tuple[str, str]:
    """("static-roles" | "config" | "roles" | "", name) of a database-engine path."""
    mount = settings.SECRET_BACKENDS.get(secret.backend, {}).get("database_mount") or "database"
    head, _, rest = secret.path.partition("/")
    kind, _, name = rest.partition("/")
    if head != mount or "/" in name:
        return "", ""
    return kind, name
