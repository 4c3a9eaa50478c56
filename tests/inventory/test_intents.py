"""Backend changes through intents: no transaction is open while OpenBao is called, a code is
spent once it passed (even when the backend then refuses), and a crash between the backend call
and the finish is settled by the reconciler, never lost."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.urls import reverse

from secrets_admin.accounts.stepup import verify_step_up
from secrets_admin.audit import intents
from secrets_admin.audit.models import AuditEntry, Intent
from secrets_admin.backends import get_backend
from secrets_admin.backends.vault import VaultBackend
from secrets_admin.inventory.models import Secret
from secrets_admin.inventory.services import edit
from secrets_admin.inventory.services.sync import sync_backend
from tests.inventory.conftest import code
from tests.inventory.test_edit import FORM, kv_custom_metadata

NOW = timedelta(0)


@pytest.fixture
def carol(person, totp_for):
    user = person("carol", "security-team")
    return user, totp_for(user)


def read_only_token(kv):
    kv.sys.create_or_update_policy("inv-readonly", 'path "secret/*" { capabilities = ["read", "list"] }')
    return kv.auth.token.create(policies=["inv-readonly"], ttl="10m")["auth"]["client_token"]


@pytest.mark.django_db(transaction=True)
def test_the_backend_is_called_outside_any_transaction(kv_backend, put_kv, carol, monkeypatch):
    user, totp = carol
    path = put_kv("bots/spy", "tok", owner="old-team")
    sync_backend("kvtest", actor="test")
    secret = Secret.objects.get(path=path)
    seen = []
    real = VaultBackend.write_metadata

    def spy(self, *args, **kwargs):  # the real call, noting whether a transaction was open
        seen.append(connection.in_atomic_block)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(VaultBackend, "write_metadata", spy)
    edit.do_update_metadata(secret.pk, actor=user, changes=FORM, otp=code(totp))
    assert seen == [False]
    assert Secret.objects.get(pk=secret.pk).owner_team == "platform"
    intent = Intent.objects.get()
    assert (intent.kind, intent.state, intent.key) == (
        "inventory.metadata",
        "done",
        f"inventory.secret:{secret.pk}",
    )
    assert list(AuditEntry.objects.filter(actor=user).order_by("id").values_list("action", flat=True)) == [
        "mfa.stepup.verified",
        "intent.started",
        "inventory.secret.updated",
    ]


@pytest.mark.django_db
def test_a_code_the_backend_refusal_followed_is_spent_and_refused_for_another_action(
    kv_backend, put_kv, kv, carol, client_for, person, settings
):
    user, totp = carol
    path = put_kv("readonly", "x", owner="before")
    sync_backend("kvtest", actor="test")
    secret = Secret.objects.get(path=path)
    kvtest = settings.SECRET_BACKENDS["kvtest"]
    settings.SECRET_BACKENDS = {
        **settings.SECRET_BACKENDS,
        "kvtest": {**kvtest, "token": read_only_token(kv)},
    }
    client = client_for(user)
    the_code = code(totp)

    response = client.post(reverse("inventory:edit", args=[secret.pk]), {**FORM, "otp_code": the_code})
    assert (
        response.status_code == 400
        and "Nothing was saved. OpenBao (kvtest) refused" in response.content.decode()
    )
    assert Secret.objects.get(pk=secret.pk).owner_team == "before"
    assert kv_custom_metadata(kv, path) == {"owner": "before"}
    intent = Intent.objects.get()
    assert intent.state == "failed" and "permission denied" in intent.error
    assert AuditEntry.objects.filter(action="intent.failed", target_id=str(intent.pk)).exists()

    alice = person("alice", "developers")
    response = client.post(
        "/accounts/members/", {"user": alice.pk, "group": "cto", "change": "add", "otp_code": the_code}
    )
    assert response.status_code == 400 and "already used" in response.content.decode()
    assert not alice.groups.filter(name="cto").exists()


@pytest.mark.django_db
def test_a_second_edit_while_the_first_is_on_its_way_is_refused_clearly(
    kv_backend, put_kv, carol, client_for
):
    user, totp = carol
    path = put_kv("busy", "x")
    sync_backend("kvtest", actor="test")
    secret = Secret.objects.get(path=path)
    with transaction.atomic():  # a first edit whose process is between its intent and its finish
        intents.begin(edit.METADATA_INTENT, key=f"inventory.secret:{secret.pk}", actor=user, data={})

    response = client_for(user).post(
        reverse("inventory:edit", args=[secret.pk]), {**FORM, "otp_code": code(totp)}
    )
    assert response.status_code == 400 and "still being written to its backend" in response.content.decode()
    assert Secret.objects.get(pk=secret.pk).owner_team == ""
    assert Intent.objects.filter(state="pending").count() == 1


def start_edit(user, totp, secret, changes):
    """Steps 1 and 2 of do_update_metadata, as a process that died right after them left it."""
    with transaction.atomic():
        verify_step_up(user, code(totp), purpose=f"inventory.secret.update:{secret.pk}")
    diff = edit._diff(secret, edit.clean_changes(changes))
    metadata = {name: changes.get(field, getattr(secret, field)) for name, field in edit.BACKEND_KEYS.items()}
    data = {"secret_id": secret.pk, "backend": secret.backend, "path": secret.path, "metadata": metadata}
    with transaction.atomic():
        return intents.begin(
            edit.METADATA_INTENT,
            key=f"inventory.secret:{secret.pk}",
            actor=user,
            data={**data, "changes": diff},
        ), metadata


@pytest.mark.django_db
def test_a_crash_after_the_backend_took_the_change_is_finished_by_the_reconciler(
    kv_backend, put_kv, kv, carol
):
    user, totp = carol
    path = put_kv("crash/after", "x", owner="old")
    sync_backend("kvtest", actor="test")
    secret = Secret.objects.get(path=path)
    intent, metadata = start_edit(user, totp, secret, FORM)
    get_backend("kvtest").write_metadata(secret.path, metadata)  # ... then the process died

    assert intents.reconcile(older_than=NOW) == {"settled": 1, "waiting": 0, "gave_up": 0}
    intent.refresh_from_db()
    assert intent.state == "done"
    secret.refresh_from_db()
    assert (secret.owner_team, secret.environment, secret.purpose) == (
        "platform",
        "staging",
        "deploy bot token",
    )
    entry = AuditEntry.objects.get(action="inventory.secret.updated")
    assert entry.data["settled_by"] == "reconciler" and entry.data["changes"]["owner_team"] == [
        "old",
        "platform",
    ]
    assert intents.reconcile(older_than=NOW)["settled"] == 0  # settled once


@pytest.mark.django_db
def test_a_crash_before_the_backend_call_is_failed_by_the_reconciler_and_changes_nothing(
    kv_backend, put_kv, kv, carol
):
    user, totp = carol
    path = put_kv("crash/before", "x", owner="old")
    sync_backend("kvtest", actor="test")
    secret = Secret.objects.get(path=path)
    intent, _ = start_edit(user, totp, secret, FORM)  # the process died before calling OpenBao

    assert intents.reconcile(older_than=timedelta(minutes=5))["settled"] == 0  # too young to be a crash
    assert intents.reconcile(older_than=NOW)["settled"] == 1
    intent.refresh_from_db()
    assert intent.state == "failed" and "never happened" in intent.error
    assert Secret.objects.get(pk=secret.pk).owner_team == "old"
    assert kv_custom_metadata(kv, path) == {"owner": "old"}
    assert AuditEntry.objects.filter(action="intent.settled", actor_name="celery:intents").exists()


@pytest.mark.django_db
def test_the_reconciler_waits_while_the_backend_cannot_be_asked(kv_backend, put_kv, carol, settings):
    user, totp = carol
    path = put_kv("crash/down", "x")
    sync_backend("kvtest", actor="test")
    intent, _ = start_edit(user, totp, Secret.objects.get(path=path), FORM)
    kvtest = settings.SECRET_BACKENDS["kvtest"]
    settings.SECRET_BACKENDS = {
        **settings.SECRET_BACKENDS,
        "kvtest": {**kvtest, "url": "http://127.0.0.1:9", "timeout": 1},  # nothing listens there
    }
    assert intents.reconcile(older_than=NOW) == {"settled": 0, "waiting": 1, "gave_up": 0}
    intent.refresh_from_db()
    assert (intent.state, intent.attempts) == ("pending", 1)


@pytest.mark.django_db
def test_a_create_whose_process_died_after_the_backend_call_is_stored_by_the_reconciler(kv_backend, carol):
    user, _ = carol
    path = f"secret/{kv_backend}/crash/new-key"
    data = {"backend": "kvtest", "path": path, "kind": "api_key", "metadata": {"owner": "payments"}}
    with transaction.atomic():
        intent = intents.begin("inventory.create", key=f"kvtest:{path}", actor=user, data=data)
    get_backend("kvtest").create_secret(path, kind="api_key", metadata={"owner": "payments"})

    assert intents.reconcile(older_than=NOW)["settled"] == 1
    secret = Secret.objects.get(backend="kvtest", path=path)
    assert (secret.source, secret.owner_team) == ("console", "payments")
    assert list(secret.versions.values_list("created_by", flat=True)) == ["console:carol"]
    intent.refresh_from_db()
    assert intent.state == "done" and intent.result == {"secret_id": secret.pk}
