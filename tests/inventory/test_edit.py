"""Two-way metadata and registering secrets: written to OpenBao/AWS and the inventory together,
behind a one-time code, audited; a refused backend write changes nothing."""

import pytest
from django.urls import reverse

from secrets_admin.audit.models import AuditEntry
from secrets_admin.inventory.models import Secret
from secrets_admin.inventory.services.sync import sync_backend
from tests.inventory.conftest import code

pytestmark = pytest.mark.django_db
FORM = {"owner_team": "platform", "environment": "staging", "purpose": "deploy bot token"}


@pytest.fixture
def carol(person, totp_for):
    user = person("carol", "security-team")
    return user, totp_for(user)


def kv_custom_metadata(kv, path):
    key = path.split("/", 1)[1]
    return kv.secrets.kv.v2.read_secret_metadata(path=key, mount_point="secret")["data"]["custom_metadata"]


def test_an_edit_round_trips_to_openbao_custom_metadata(kv_backend, put_kv, kv, carol, client_for):
    user, totp = carol
    path = put_kv("bots/deploy", "tok", owner="old-team", keep_me="yes")
    sync_backend("kvtest", actor="test")
    secret = Secret.objects.get(path=path)

    response = client_for(user).post(
        reverse("inventory:edit", args=[secret.pk]), {**FORM, "otp_code": code(totp)}
    )

    assert response.status_code == 302
    secret.refresh_from_db()
    assert (secret.owner_team, secret.environment, secret.purpose) == (
        "platform",
        "staging",
        "deploy bot token",
    )
    assert kv_custom_metadata(kv, path) == {
        "owner": "platform",
        "environment": "staging",
        "purpose": "deploy bot token",
        "keep_me": "yes",
    }
    entry = AuditEntry.objects.get(action="inventory.secret.updated")
    assert entry.actor_name == "carol" and entry.data["changes"]["owner_team"] == ["old-team", "platform"]
    # The next sync reads the same values back: nothing to change.
    run = sync_backend("kvtest", actor="test")
    assert run.changed == 0


def test_an_edit_round_trips_to_aws_tags(aws_backend, sm, carol, client_for):
    user, totp = carol
    arn = sm.create_secret(
        Name=f"{aws_backend}/svc/key", SecretString="x", Tags=[{"Key": "cost-center", "Value": "7"}]
    )["ARN"]
    sync_backend("awstest", actor="test")
    secret = Secret.objects.get(path=arn)

    client_for(user).post(reverse("inventory:edit", args=[secret.pk]), {**FORM, "otp_code": code(totp)})

    tags = {t["Key"]: t["Value"] for t in sm.describe_secret(SecretId=arn)["Tags"]}
    assert tags == {
        "cost-center": "7",
        "owner": "platform",
        "environment": "staging",
        "purpose": "deploy bot token",
    }
    secret.refresh_from_db()
    assert secret.owner_team == "platform"


@pytest.mark.parametrize("otp", ["", "000000", "12345"])
def test_an_edit_without_a_valid_code_changes_nothing(kv_backend, put_kv, kv, carol, client_for, otp):
    user, _totp = carol
    path = put_kv("guarded", "x", owner="keep")
    sync_backend("kvtest", actor="test")
    secret = Secret.objects.get(path=path)

    response = client_for(user).post(reverse("inventory:edit", args=[secret.pk]), {**FORM, "otp_code": otp})

    assert response.status_code == 400
    assert Secret.objects.get(pk=secret.pk).owner_team == "keep"
    assert kv_custom_metadata(kv, path) == {"owner": "keep"}
    assert not AuditEntry.objects.filter(action="inventory.secret.updated").exists()


def test_a_security_member_without_an_authenticator_is_told_to_enrol(kv_backend, put_kv, person, client_for):
    path = put_kv("guarded", "x")
    sync_backend("kvtest", actor="test")
    secret = Secret.objects.get(path=path)
    client = client_for(person("dave", "security-team"))

    response = client.post(reverse("inventory:edit", args=[secret.pk]), {**FORM, "otp_code": "123456"})

    assert response.status_code == 400 and "authenticator" in response.content.decode().lower()
    assert Secret.objects.get(pk=secret.pk).owner_team == ""


def test_a_refused_backend_write_changes_nothing_and_says_why(
    kv_backend, put_kv, kv, carol, client_for, settings, caplog
):
    user, totp = carol
    path = put_kv("readonly", "x", owner="before")
    sync_backend("kvtest", actor="test")
    secret = Secret.objects.get(path=path)
    kv.sys.create_or_update_policy("inv-readonly", 'path "secret/*" { capabilities = ["read", "list"] }')
    token = kv.auth.token.create(policies=["inv-readonly"], ttl="10m")["auth"]["client_token"]
    settings.SECRET_BACKENDS = {
        **settings.SECRET_BACKENDS,
        "kvtest": {**settings.SECRET_BACKENDS["kvtest"], "token": token},
    }

    response = client_for(user).post(
        reverse("inventory:edit", args=[secret.pk]), {**FORM, "otp_code": code(totp)}
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "Nothing was saved. OpenBao (kvtest) refused the console access to that path" in page
    assert "Forbidden" not in page and "permission denied" not in page  # the raw text: log only
    assert "Forbidden" in caplog.text and "permission denied" in caplog.text
    assert Secret.objects.get(pk=secret.pk).owner_team == "before"
    assert kv_custom_metadata(kv, path) == {"owner": "before"}
    assert not AuditEntry.objects.filter(action="inventory.secret.updated").exists()


def test_bad_metadata_is_a_form_error(kv_backend, put_kv, carol, client_for):
    user, totp = carol
    path = put_kv("x", "x")
    sync_backend("kvtest", actor="test")
    secret = Secret.objects.get(path=path)
    client = client_for(user)
    url = reverse("inventory:edit", args=[secret.pk])
    for bad in ({"environment": "prod"}, {"owner_team": ""}, {"owner_team": "x" * 200}):
        response = client.post(url, {**FORM, **bad, "otp_code": code(totp)})
        assert response.status_code == 400
    assert Secret.objects.get(pk=secret.pk).owner_team == ""


def test_importing_an_existing_secret(kv_backend, put_kv, carol, client_for):
    user, totp = carol
    path = put_kv("imported/key", "v", owner="imports", kind="password")

    response = client_for(user).post(
        reverse("inventory:register"),
        {"action": "import", "import-backend": "kvtest", "import-path": path, "import-otp_code": code(totp)},
    )

    secret = Secret.objects.get(backend="kvtest", path=path)
    assert response.status_code == 302 and response.url == secret.get_absolute_url()
    assert (secret.source, secret.kind, secret.owner_team) == ("import", "password", "imports")
    assert list(secret.versions.values_list("version_id", "created_by")) == [("1", "import")]
    assert AuditEntry.objects.filter(action="inventory.secret.registered", target_id=str(secret.pk)).exists()
    # A sync afterwards treats it as known.
    assert sync_backend("kvtest", actor="test").created == 0


def test_importing_a_path_that_does_not_exist_names_the_problem(kv_backend, carol, client_for, caplog):
    user, totp = carol
    response = client_for(user).post(
        reverse("inventory:register"),
        {
            "action": "import",
            "import-backend": "kvtest",
            "import-path": f"secret/{kv_backend}/nope",
            "import-otp_code": code(totp),
        },
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "That path does not exist in OpenBao (kvtest): check the mount and path." in page
    assert "InvalidPath" not in page and "InvalidPath" in caplog.text
    assert not Secret.objects.filter(backend="kvtest").exists()


def test_an_unreachable_backend_is_named_in_words(kv_backend, carol, client_for, settings, caplog):
    from console.stack.servers import free_port

    user, totp = carol
    settings.SECRET_BACKENDS = {
        **settings.SECRET_BACKENDS,
        "kvtest": {
            **settings.SECRET_BACKENDS["kvtest"],
            "url": f"http://127.0.0.1:{free_port()}",
            "timeout": 1,
        },
    }
    response = client_for(user).post(
        reverse("inventory:register"),
        {
            "action": "import",
            "import-backend": "kvtest",
            "import-path": f"secret/{kv_backend}/anything",
            "import-otp_code": code(totp),
        },
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "The console cannot reach OpenBao (kvtest) right now: try again in a minute." in page
    assert "127.0.0.1" not in page and "ConnectionError" in caplog.text


def test_creating_a_secret_stores_a_value_nobody_sees(kv_backend, kv, carol, client_for):
    user, totp = carol
    path = f"secret/{kv_backend}/new/api-key"

    response = client_for(user).post(
        reverse("inventory:register"),
        {
            "action": "create",
            "create-backend": "kvtest",
            "create-path": path,
            "create-kind": "api_key",
            "create-owner_team": "payments",
            "create-environment": "production",
            "create-purpose": "webhooks",
            "create-otp_code": code(totp),
        },
    )

    assert response.status_code == 302
    secret = Secret.objects.get(backend="kvtest", path=path)
    assert (secret.source, secret.kind, secret.owner_team, secret.environment) == (
        "console",
        "api_key",
        "payments",
        "production",
    )
    assert secret.rotation_policy.name == "api-key-90-days"
    value = kv.secrets.kv.v2.read_secret_version(
        path=path.split("/", 1)[1], mount_point="secret", raise_on_deleted_version=True
    )["data"]["data"]["value"]
    assert len(value) >= 20
    page = client_for(user).get(secret.get_absolute_url()).content.decode()
    assert value not in page and value not in str(list(Secret.objects.filter(pk=secret.pk).values()))
    assert list(secret.versions.values_list("created_by", flat=True)) == ["console:carol"]
    assert AuditEntry.objects.filter(action="inventory.secret.created").count() == 1


def test_creating_over_an_existing_path_is_refused(kv_backend, put_kv, kv, carol, client_for):
    user, totp = carol
    path = put_kv("taken", "original")
    response = client_for(user).post(
        reverse("inventory:register"),
        {
            "action": "create",
            "create-backend": "kvtest",
            "create-path": path,
            "create-kind": "password",
            "create-owner_team": "x",
            "create-environment": "development",
            "create-otp_code": code(totp),
        },
    )
    page = response.content.decode()
    assert response.status_code == 400 and "OpenBao (kvtest) already has a secret at that path" in page
    stored = kv.secrets.kv.v2.read_secret_version(
        path=path.split("/", 1)[1], mount_point="secret", raise_on_deleted_version=True
    )["data"]["data"]
    assert stored == {"value": "original"}


def test_a_register_post_without_an_action_is_a_clear_error(carol, client_for):
    user, _ = carol
    response = client_for(user).post(reverse("inventory:register"), {"path": "x"})
    assert response.status_code == 400 and "Choose whether to import" in response.content.decode()
    assert not Secret.objects.exists()
