"""kill -9 between minting a grant's token and recording it: a real process runs the final
approval and dies (os._exit at the crash point) with the token made in OpenBao and nothing about
it in the database but the intent. The reconciler finds the token by its metadata, revokes it
by accessor, and the grant ends as not issued.

PostgreSQL only: the dying process and the test share the database."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import hvac.exceptions
import pytest
from django.conf import settings

from breakglass.models import Grant
from breakglass.models.grant import GrantState
from breakglass.models.request import Status
from breakglass.services import approve
from secrets_admin.audit import intents
from secrets_admin.audit.models import AuditEntry, Intent
from secrets_admin.backends import get_backend
from secrets_admin.backends import vault_tokens as tokens
from tests.markers import requires_postgres

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]
APPROVER = (
    "import os, sys, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'console.settings'); "
    "django.setup(); from django.contrib.auth.models import User; "
    "from breakglass.services import approve; "
    "approve.do_approve(int(sys.argv[1]), actor=User.objects.get(pk=int(sys.argv[2])), code=sys.argv[3])"
)


def approve_and_die(access, actor, openbao, redis_url) -> None:
    db = settings.DATABASES["default"]
    where = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}:{db.get('PASSWORD') or ''}@{where}",
        "VAULT_ADDR": openbao.url,
        "VAULT_TOKEN": openbao.token,
        "REDIS_URL": redis_url,
        "ROTATION_CRASH_AT": "breakglass:after-mint",
        "AUDIT_ANCHOR": "off",
    }
    args = [sys.executable, "-c", APPROVER, str(access.pk), str(actor.user.pk), actor.code()]
    done = subprocess.run(args, env=env, cwd=ROOT, timeout=120, capture_output=True, text=True)
    assert done.returncode == 137, f"the approver did not die after minting: {done.stderr[-2000:]}"


def test_a_token_minted_but_never_recorded_is_found_and_revoked(
    ask, secret_at, carol, erin, root, openbao, servers
):
    access = ask(secret_at("payments/db"))
    approve.do_approve(access.pk, actor=carol.user, code=carol.code())
    approve_and_die(access, erin, openbao, servers.redis_url)

    grant = Grant.objects.get(request=access)
    assert grant.state == GrantState.ISSUING and grant.accessor == ""  # nothing recorded
    backend = get_backend("vault")
    orphans = tokens.find_accessors(backend, {"candlefish_grant": str(grant.pk)})
    assert len(orphans) == 1, "the dead process made exactly one token"
    assert root.auth.token.lookup_accessor(orphans[0])["data"]["policies"] == [grant.policy_name]

    assert intents.reconcile(older_than=timedelta(0))["settled"] == 1
    grant.refresh_from_db()
    access.refresh_from_db()
    assert grant.state == GrantState.FAILED and access.status == Status.FAILED
    assert grant.accessor == orphans[0] and grant.token_gone_at is not None
    with pytest.raises(hvac.exceptions.InvalidRequest):  # gone in OpenBao, not only disarmed
        root.auth.token.lookup_accessor(orphans[0])
    assert grant.policy_name not in root.sys.list_policies()["data"]["policies"]
    assert Intent.objects.get(key=f"breakglass.request:{access.pk}").state == Intent.FAILED
    entry = AuditEntry.objects.get(action="breakglass.grant_failed", target_id=str(grant.pk))
    assert entry.data["revoked_accessors"] == orphans
    assert intents.reconcile(older_than=timedelta(0))["settled"] == 0  # settled once
