"""PostgreSQL as a rotation target: where a rotated password is installed and proved.

A target is named in `ROTATION_TARGETS` (host, port, database: never a password). A password
secret (KV v2 or AWS) points at one with two tags: `target` (the name) and `target_login` (the
role whose password it holds). The console needs no administrator on the target: a role changes
its own password (`ALTER ROLE CURRENT_USER`), logged in with the one it has now. The new password
travels as a SCRAM verifier computed on our side, so the target never sees it in clear (nor
writes it to its log).

Passwords are arguments in memory only; no error, log line or return value carries one.
"""

import logging
from dataclasses import dataclass

import psycopg
from psycopg import sql

from secrets_admin.backends.base import BackendError

log = logging.getLogger(__name__)
TARGET_TAG = "target"
LOGIN_TAG = "target_login"
# SQLSTATEs of a refused login: wrong password / no such role or no LOGIN right / bad spec.
REFUSED = {"28P01", "28000", "3D000"}


def _quoted(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


@dataclass(frozen=True)
class PostgresTarget:
    name: str
    host: str
    port: int
    database: str

    def dsn(self, user: str, password: str, database: str | None = None) -> str:
        return (
            f"host={self.host} port={self.port} dbname={_quoted(database or self.database)} "
            f"user={_quoted(user)} password={_quoted(password)} connect_timeout=5 sslmode=disable"
        )

    def _error(self, doing: str, exc: Exception | None, *, permanent: bool, reason: str) -> BackendError:
        # psycopg's text names host and role, never the password; still, keep it out entirely.
        sqlstate = getattr(exc, "sqlstate", None) or ""
        words = f"{doing} on {self.name}: {reason}" + (f" (SQLSTATE {sqlstate})" if sqlstate else "")
        return BackendError(words, permanent=permanent, backend=self.name, reason=reason)

    def connect(self, user: str, password: str) -> psycopg.Connection:
        """A fresh login (never pooled: a pooled session would prove nothing)."""
        try:
            return psycopg.connect(self.dsn(user, password), autocommit=True)
        except psycopg.OperationalError as exc:
            if _refused(exc):
                raise self._error(f"login as {user}", exc, permanent=True, reason="login refused") from None
            raise self._error(f"login as {user}", exc, permanent=False, reason="unreachable") from None

    def login_works(self, user: str, password: str) -> bool:
        """True when `user` logs in with `password`, False when the target refuses that login;
        BackendError (transient) when the target cannot be reached."""
        try:
            self.connect(user, password).close()
        except BackendError as exc:
            if exc.reason == "login refused":
                return False
            raise
        return True

    def change_own_password(self, user: str, current: str, new: str) -> None:
        """Log in as `user` with `current` and set `new` (sent as a SCRAM verifier).
        BackendError(permanent) when the target refuses the login or the change."""
        with self.connect(user, current) as conn:
            verifier = conn.pgconn.encrypt_password(new.encode(), user.encode(), b"scram-sha-256")
            try:
                conn.execute(
                    sql.SQL("ALTER ROLE CURRENT_USER WITH PASSWORD {}").format(sql.Literal(verifier.decode()))
                )
            except psycopg.Error as exc:
                raise self._error(
                    f"change the password of {user}", exc, permanent=True, reason="change refused"
                ) from None
            finally:
                del verifier
        log.info("password of %s changed on target %s", user, self.name)


def _refused(exc: psycopg.OperationalError) -> bool:
    if getattr(exc, "sqlstate", None) in REFUSED:
        return True
    text = str(exc)  # libpq reports auth failures at connect without a sqlstate attribute
    return any(
        words in text
        for words in ("password authentication failed", "does not exist", "not permitted to log in")
    )


def get_target(name: str) -> PostgresTarget:
    """The target named in settings.ROTATION_TARGETS; BackendError(permanent) if none is."""
    from django.conf import settings

    config = (getattr(settings, "ROTATION_TARGETS", None) or {}).get(name)
    if not config:
        raise BackendError(
            f"no rotation target named {name!r} (ROTATION_TARGETS)",
            permanent=True,
            backend=name or "target",
            reason="unknown target",
        )
    return PostgresTarget(name, config.get("host", "127.0.0.1"), int(config["port"]), config["database"])


def target_of(tags: dict) -> tuple[PostgresTarget, str] | None:
    """(target, login) named by a secret's tags, None when it names no target."""
    name, login = (tags or {}).get(TARGET_TAG), (tags or {}).get(LOGIN_TAG)
    if not name:
        return None
    if not login:
        raise BackendError(
            f"the secret names target {name!r} but no {LOGIN_TAG} tag",
            permanent=True,
            backend=name,
            reason="no login",
        )
    return get_target(name), login


def provision(admin_dsn: str, database: str, *, owner: str, owner_password=None, logins=()) -> None:
    """As the target's superuser: the database, its owner `owner` (CREATEROLE: OpenBao's
    connection logs in as it; its password is set when `owner_password` is given) and each
    (name, password, managed) login; `managed` logins are granted to the owner WITH ADMIN
    OPTION, so OpenBao can set their passwords (static roles). Idempotent: existing roles get
    the given password again."""
    owner_entry = [(owner, owner_password, False)] if owner_password is not None else []
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        for name, password, managed in [*owner_entry, *logins]:
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [name]).fetchone()
            verb = "ALTER" if exists else "CREATE"
            extra = " CREATEROLE" if name == owner else ""
            conn.execute(
                sql.SQL(verb + " ROLE {} WITH LOGIN" + extra + " PASSWORD {}").format(
                    sql.Identifier(name), sql.Literal(password)
                )
            )
            if managed:
                conn.execute(
                    sql.SQL("GRANT {} TO {} WITH ADMIN OPTION").format(
                        sql.Identifier(name), sql.Identifier(owner)
                    )
                )
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone():
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(database), sql.Identifier(owner))
            )
