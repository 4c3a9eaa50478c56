"""Never a value, for the target strategies: the passwords a rolling and a dynamic rotation
handle (old and new), and the credentials behind listed leases, appear in no table, log line
(SQL included) or page after the rotations ran and the leases page was rendered."""

import logging
import uuid

import pytest

from secrets_admin.backends import get_backend
from secrets_admin.backends import vault_engines as engines
from secrets_admin.roles import SECURITY_TEAM
from secrets_admin.rotation.services import engine, start_run
from tests.inventory.test_canary import db_dump

pytestmark = pytest.mark.django_db


def test_no_password_of_a_target_rotation_reaches_db_logs_or_pages(
    password_secret, make_secret, target_db, person, totp_for, client_for, caplog, settings
):
    settings.DEBUG = True  # SQL in the log too
    caplog.set_level(logging.DEBUG)
    old = f"CANARY{uuid.uuid4().hex}"
    secret, login, _ = password_secret("vault", password=old)
    vault = get_backend("vault")
    names = target_db.configure_engine(vault)
    static_before = engines.static_credentials(vault, names["static_role"])[1]
    _, _, lease_password = engines.dynamic_credentials(vault, names["dynamic_role"])

    for subject in (secret, make_secret(f"database/static-roles/{names['static_role']}", kind="database")):
        run = start_run(subject, actor="test", reason="cli")
        assert engine.advance(run.pk)["state"] == "finished"
    carol = person("carol", SECURITY_TEAM)
    totp_for(carol)
    html = client_for(carol).get("/rotation/leases/").content.decode()

    values = {
        "old password": old,
        "new password": vault.read_current(secret.path),
        "static role before": static_before,
        "static role after": engines.static_credentials(vault, names["static_role"])[1],
        "lease password": lease_password,
        "root password we gave": target_db.owner_password,
    }
    places = {"database": db_dump(), "logs": caplog.text, "leases page": html}
    leaks = [
        (what, where) for what, value in values.items() for where, text in places.items() if value in text
    ]
    assert leaks == []
    assert target_db.target.login_works(login, values["new password"])
    vault._call("PUT", f"sys/leases/revoke-prefix/database/creds/{names['dynamic_role']}", "clean up")
