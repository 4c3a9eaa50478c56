"""The leases page: outstanding database leases with their TTL; an orphan revoked with a
one-time code, audited, its login dropped on the target."""

import pytest

from secrets_admin.audit.models import AuditEntry, Intent
from secrets_admin.backends import get_backend
from secrets_admin.backends import vault_engines as engines
from secrets_admin.roles import SECURITY_TEAM
from secrets_admin.rotation.leases import LEASE_REVOKED
from tests.inventory.conftest import code

pytestmark = pytest.mark.django_db


@pytest.fixture
def leases(servers, target_db):
    """Two leases of a live role and one of a role since deleted (the orphan)."""
    vault = get_backend("vault")
    names = target_db.configure_engine(vault)
    live = [engines.dynamic_credentials(vault, names["dynamic_role"]) for _ in range(2)]
    gone_role = f"gone-{names['tag']}"
    engines.create_dynamic_role(
        vault, gone_role, connection=names["connection"], database=target_db.target.database
    )
    vault._call("POST", f"database/config/{names['connection']}", "allow", json={"allowed_roles": "*"})
    orphan = engines.dynamic_credentials(vault, gone_role)
    vault._call("DELETE", f"database/roles/{gone_role}", "delete role")
    yield {"live": live, "orphan": orphan, "role": names["dynamic_role"], "gone_role": gone_role}
    vault._call("PUT", f"sys/leases/revoke-prefix/database/creds/{names['dynamic_role']}", "clean up")


@pytest.fixture
def carol(person, totp_for, client_for):
    """A security-team member with an authenticator: (logged-in client, user, TOTP)."""
    user = person("carol", SECURITY_TEAM)
    totp = totp_for(user)
    return client_for(user), user, totp


def test_the_page_lists_leases_with_their_ttl_orphans_first(carol, leases):
    page = carol[0].get("/rotation/leases/")
    assert page.status_code == 200
    html = page.content.decode()
    orphan_id, live_id = leases["orphan"][0], leases["live"][0][0]
    assert orphan_id in html and live_id in html and html.index(orphan_id) < html.index(live_id)
    assert "Orphaned: role gone" in html and leases["orphan"][2] not in html
    assert f'value="vault {orphan_id}"' in html and f'value="vault {live_id}"' not in html


def test_an_orphan_is_revoked_with_a_code_and_audited(carol, leases, target_db):
    client, user, totp = carol
    lease_id, login, password = leases["orphan"]
    assert target_db.target.login_works(login, password)
    answer = client.post("/rotation/leases/", {"lease": f"vault {lease_id}", "otp_code": code(totp)})
    assert answer.status_code == 302
    assert not target_db.target.login_works(login, password), "the orphan's login is gone"
    assert lease_id not in {lease.lease_id for lease in engines.list_leases(get_backend("vault"))}
    entry = AuditEntry.objects.get(action=LEASE_REVOKED)
    assert entry.data == {"backend": "vault", "lease_id": lease_id, "role": leases["gone_role"]}
    assert entry.actor_id == user.pk and Intent.objects.get(kind="rotation.lease.revoke").state == Intent.DONE


def test_a_wrong_code_or_a_managed_lease_revokes_nothing(carol, leases, target_db):
    client, _, totp = carol
    lease_id, login, password = leases["orphan"]
    answer = client.post("/rotation/leases/", {"lease": f"vault {lease_id}", "otp_code": "000000"})
    assert answer.status_code == 400 and target_db.target.login_works(login, password)
    live_id = leases["live"][0][0]
    answer = client.post("/rotation/leases/", {"lease": f"vault {live_id}", "otp_code": code(totp)})
    assert answer.status_code == 400 and "Select a valid choice" in answer.content.decode()
    assert not AuditEntry.objects.filter(action=LEASE_REVOKED).exists()
