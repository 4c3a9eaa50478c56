"""PostgreSQL only: the append-only trigger, and a linear chain under concurrent writers."""

import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction

from secrets_admin.audit import services
from secrets_admin.audit.models import AuditEntry
from tests.audit.conftest import THING_DONE
from tests.markers import requires_postgres

pytestmark = [requires_postgres, pytest.mark.postgres]


def raw(sql, params=()):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.django_db(transaction=True)
def test_the_trigger_refuses_update_and_delete_from_any_client():
    with transaction.atomic():
        services.record(THING_DONE, actor=None, data={"n": 1})
    with pytest.raises(IntegrityError, match="append-only: UPDATE refused"):
        raw("UPDATE audit_auditentry SET action = 'x.y' WHERE sequence = 1")
    with pytest.raises(IntegrityError, match="append-only: DELETE refused"):
        raw("DELETE FROM audit_auditentry")
    with pytest.raises(IntegrityError, match="append-only: UPDATE refused"):
        raw("UPDATE audit_auditentry SET actor_id = NULL, actor_name = 'nobody'")  # not the SET NULL shape
    assert list(AuditEntry.objects.values_list("sequence", "action")) == [(1, THING_DONE)]
    assert services.verify(full=True).ok


@pytest.mark.django_db(transaction=True)
def test_the_trigger_lets_a_user_deletion_null_the_actor_and_nothing_else():
    carol = get_user_model().objects.create_user("carol", password="x" * 16)
    with transaction.atomic():
        services.record(THING_DONE, actor=carol)
    with pytest.raises(IntegrityError):
        raw("UPDATE audit_auditentry SET actor_id = %s", [carol.pk + 1000])  # re-pointing is refused
    carol.delete()
    assert list(AuditEntry.objects.values_list("actor_id", "actor_name")) == [(None, "carol")]
    assert services.verify(full=True).ok


@pytest.mark.django_db(transaction=True)
def test_eight_concurrent_writers_keep_one_gapless_chain():
    threads, per_thread = 8, 100
    barrier = threading.Barrier(threads)
    errors = []

    def writer(n):
        try:
            barrier.wait()
            for i in range(per_thread):
                with transaction.atomic():
                    services.record(THING_DONE, actor=f"thread:{n}", data={"i": i})
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    workers = [threading.Thread(target=writer, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    sequences = list(AuditEntry.objects.order_by("sequence").values_list("sequence", flat=True))
    assert sequences == list(range(1, threads * per_thread + 1))
    assert AuditEntry.objects.values("actor_name").distinct().count() == threads
    outcome = services.verify(full=True)
    assert (outcome.ok, outcome.entries) == (True, threads * per_thread)
