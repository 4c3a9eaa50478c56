"""The demo history seed_demo writes for the dashboard: marked as demo data, audited row by row
in the ledger, leaving the secrets' own dates alone, and written once."""

import io

import pytest

from breakglass.models import Grant
from secrets_admin.audit.models import AuditEntry
from secrets_admin.dashboard import demo
from secrets_admin.dashboard.services.headline import headline_numbers
from secrets_admin.inventory.models import RotationPolicy
from secrets_admin.rotation.models import RotationRun
from tests.dashboard import estate

pytestmark = pytest.mark.django_db


def test_demo_history_is_marked_audited_and_written_once():
    policy = RotationPolicy.objects.get(kind="api_key", is_default=True)
    secrets = [estate.secret(f"secret/demo/{i}", rotation_policy=policy) for i in range(5)]
    estate.secret("secret/demo/no-policy")
    for name in ("alice", "bob"):
        estate.person(name, "developers")

    out = io.StringIO()
    demo.seed_history(out)
    runs = RotationRun.objects.all()
    assert runs.count() >= 5 * 3  # every 30 days or less over 90 days, for each secret with a policy
    assert set(runs.values_list("actor_name", flat=True)) == {demo.MARK}
    assert all(r.state_data == {"demo": True} for r in runs)
    assert {r.secret_id for r in runs} == {s.pk for s in secrets}
    assert all(r.error.startswith("demo history:") for r in runs.exclude(state="finished"))
    grants = Grant.objects.all()
    assert grants.count() == 12 and set(grants.values_list("state", flat=True)) == {"ended"}
    seeded = AuditEntry.objects.filter(action="dashboard.demo.seeded")
    assert seeded.count() == runs.count() + 2 * grants.count()  # each run, request and grant
    assert all(s.last_rotated is None for s in type(secrets[0]).objects.all())  # secrets untouched

    windows = {w["days"]: w for w in headline_numbers()["success"]["windows"]}
    assert windows[90]["ended"] == runs.count()

    demo.seed_history(out)
    assert RotationRun.objects.count() == runs.count() and "already seeded" in out.getvalue()
