"""The sync's shortcut for a secret the backend describes as it did last time (remote_digest):
the row is not loaded or compared, but its status still follows the clock, and a row changed
by anything but a sync, or flagged by a listing problem, is compared in full again. Real OpenBao."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from secrets_admin.inventory.models import Secret
from secrets_admin.inventory.services.sync import sync_backend

pytestmark = pytest.mark.django_db


def test_an_unchanged_secret_is_neither_loaded_nor_compared(kv_backend, put_kv):
    path = put_kv("a", "1", owner="team-a")
    sync_backend("kvtest", actor="test")
    digest = Secret.objects.get(path=path).remote_digest
    assert len(digest) == 32

    with CaptureQueriesContext(connection) as queries:
        run = sync_backend("kvtest", actor="test")

    assert (run.state, run.seen, run.changed) == ("succeeded", 1, 0)
    reads = [q["sql"] for q in queries if q["sql"].startswith("SELECT")]
    assert not [sql for sql in reads if '"inventory_secret"."tags"' in sql]  # no full row
    assert not [sql for sql in reads if 'FROM "inventory_secretversion"' in sql]
    assert Secret.objects.get(path=path).remote_digest == digest


def test_a_changed_secret_gets_a_new_digest(kv_backend, put_kv):
    path = put_kv("a", "1", owner="team-a")
    sync_backend("kvtest", actor="test")
    before = Secret.objects.get(path=path).remote_digest
    put_kv("a", "1", owner="team-b")

    run = sync_backend("kvtest", actor="test")

    secret = Secret.objects.get(path=path)
    assert run.changed == 1 and secret.owner_team == "team-b"
    assert secret.remote_digest not in ("", before)


def test_a_row_saved_by_the_console_is_compared_in_full_at_the_next_sync(kv_backend, put_kv):
    """save() clears the digest: the backend's value wins again, as without the shortcut."""
    path = put_kv("a", "1", owner="team-a")
    sync_backend("kvtest", actor="test")
    secret = Secret.objects.get(path=path)
    secret.owner_team = "someone-else"
    secret.save(update_fields=["owner_team"])
    assert Secret.objects.get(path=path).remote_digest == ""

    run = sync_backend("kvtest", actor="test")

    secret = Secret.objects.get(path=path)
    assert run.changed == 1 and secret.owner_team == "team-a" and secret.remote_digest != ""


def test_an_unchanged_secret_still_gets_its_status_recomputed(kv_backend, put_kv):
    path = put_kv("a", "1", kind="api_key")
    sync_backend("kvtest", actor="test")
    # Dates the sync did not write (nothing tracked changed, the digest stays): the sync's SQL
    # recompute of the unchanged rows sets them right again.
    Secret.objects.filter(path=path).update(
        next_due=timezone.now() - timezone.timedelta(days=1), status="overdue"
    )

    run = sync_backend("kvtest", actor="test")

    secret = Secret.objects.get(path=path)
    assert run.changed == 0
    assert secret.next_due == secret.last_rotated + timezone.timedelta(days=90)
    assert secret.status == "ok"


def test_a_listing_problem_is_cleared_when_the_secret_reads_again(settings, put_kv, deny_kv):
    denied = put_kv("team/denied", "nope")
    sync_backend("kvtest", actor="test")
    root = settings.SECRET_BACKENDS["kvtest"]
    deny_kv("team/denied")
    sync_backend("kvtest", actor="test")
    flagged = Secret.objects.get(path=denied)
    assert flagged.status == "needs_attention" and flagged.remote_digest == ""

    settings.SECRET_BACKENDS = {**settings.SECRET_BACKENDS, "kvtest": root}
    run = sync_backend("kvtest", actor="test")

    secret = Secret.objects.get(path=denied)
    assert run.state == "succeeded" and secret.problem == "" and secret.status == "ok"
