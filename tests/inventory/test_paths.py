"""Backend paths are checked before any call: traversal and other-engine paths are refused in
words, create no inventory row, spend no one-time code and send nothing to OpenBao. Proved on
the real OpenBao through its file audit log (every request it served), with a root token — the
token that could read sys/mounts if a path ever got through."""

import json
from urllib.parse import quote

import pytest
from django.urls import reverse

from secrets_admin.audit.models import AuditEntry, Intent
from secrets_admin.backends import get_backend
from secrets_admin.backends.base import BackendError
from secrets_admin.inventory.models import Secret
from secrets_admin.inventory.services.register import do_create_secret, do_import_secret
from secrets_admin.inventory.services.sync import sync_backend
from tests.inventory.conftest import code

pytestmark = pytest.mark.django_db

TRAVERSALS = [
    "secret/../../sys/mounts",
    "secret/../sys/mounts",
    "secret/a/../../../sys/mounts",
    "secret/a/..",
    "secret/a/.",
    "secret/./a",
    "secret//a",
    "secret/a/",
    "/secret/a",
    "secret",
    "secret/%2e%2e/sys",
    "secret/%2E%2E/%2E%2E/sys/mounts",
    "secret/..%2fsys%2fmounts",
    "secret/%252e%252e/sys/mounts",
    "secret/a%2F..%2F..%2Fsys",
    "secret\\..\\..\\sys\\mounts",
    "secret/\uff0e\uff0e/sys/mounts",  # full-width dots
    "secret/\u2025/sys/mounts",  # two-dot leader, NFKC ".."
    "secret/a\uff0f..\uff0fsys",  # full-width slash
    "secret/.\u200b./sys/mounts",  # zero-width space between the dots
    "secret/a\x00",
    "secret/a\r\nGET /v1/sys/mounts",
    "secret/a?list=true",
    "secret/a#x",
    "secret/ ../sys/mounts",
    "secret/.. /sys/mounts",
    "sys/mounts",
    "sys/policies/acl/candlefish-console",
    "auth/token/lookup-self",
    "auth/approle/role",
    "cubbyhole/a",
    "identity/entity/id",
    "transit/keys/a",
    "pki/../sys/mounts",
    "pki/cert/../../sys/mounts",
    "pki/issue/candlefish",  # would issue a certificate
    "database/creds/readonly",  # would issue a database credential
    "database/roles/../../sys/mounts",
    "database/config/a/b",
]


@pytest.fixture
def carol(person, totp_for):
    user = person("carol", "security-team")
    return user, totp_for(user)


@pytest.fixture
def audit_log(openbao):
    """requests() -> the OpenBao requests served since the fixture started, as (operation, path)."""
    start = openbao.audit_log.stat().st_size if openbao.audit_log.exists() else 0

    def requests():
        with open(openbao.audit_log, "rb") as log:
            log.seek(start)
            lines = [json.loads(line) for line in log.read().splitlines() if line.strip()]
        return [
            (e["request"]["operation"], e["request"]["path"]) for e in lines if e.get("type") == "request"
        ]

    return requests


@pytest.mark.parametrize("path", TRAVERSALS)
def test_import_and_create_refuse_the_path_before_any_call(path, kv_backend, carol, audit_log):
    user, totp = carol
    for attempt in (
        lambda: do_import_secret("kvtest", path, actor=user, otp=code(totp)),
        lambda: do_create_secret(
            "kvtest", path, actor=user, otp=code(totp), kind="api_key", metadata={"owner_team": "x"}
        ),
    ):
        with pytest.raises(BackendError) as refused:
            attempt()
        assert refused.value.reason == "refused input" and refused.value.permanent
    assert audit_log() == []  # not one request reached OpenBao
    assert not Secret.objects.exists() and not Intent.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="mfa.step_up").exists()  # the code was not spent


def test_the_register_form_says_what_to_fix(kv_backend, carol, client_for, audit_log):
    user, totp = carol
    response = client_for(user).post(
        reverse("inventory:register"),
        {
            "action": "import",
            "import-backend": "kvtest",
            "import-path": "secret/../../sys/mounts",
            "import-otp_code": code(totp),
        },
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "Nothing was saved. A path cannot contain &quot;.&quot; or &quot;..&quot; parts" in page
    response = client_for(user).post(
        reverse("inventory:register"),
        {
            "action": "import",
            "import-backend": "kvtest",
            "import-path": "sys/mounts",
            "import-otp_code": code(totp),
        },
    )
    assert (
        "A path must start with one of this backend&#x27;s mounts: secret/ (kv)" in response.content.decode()
    )
    assert audit_log() == [] and not Secret.objects.exists()


def test_an_edit_of_a_row_with_a_traversal_path_sends_nothing(kv_backend, carol, client_for, audit_log):
    # The row issue 8 found (registered before paths were checked): its edit once PATCHed sys/mounts.
    secret = Secret.objects.create(
        backend="kvtest", path="secret/../../sys/mounts", name="mounts", kind="api_key"
    )
    user, totp = carol
    form = {"owner_team": "x", "environment": "staging", "purpose": "", "otp_code": code(totp)}

    response = client_for(user).post(reverse("inventory:edit", args=[secret.pk]), form)

    assert response.status_code == 400
    assert "A path cannot contain &quot;.&quot; or &quot;..&quot; parts" in response.content.decode()
    assert audit_log() == []
    secret.refresh_from_db()
    assert secret.owner_team == "" and not Intent.objects.exists()


def test_every_request_url_is_guarded_too(kv_backend, audit_log):
    """Paths the adapter builds itself (from listed keys, configuration) pass `request_path`."""
    backend = get_backend("kvtest")
    for path in (
        "secret/metadata/../../sys/mounts",
        "secret/metadata/a/./b",
        "secret/metadata//a",
        "sys/\x00",
    ):
        with pytest.raises(BackendError) as refused:
            backend._call("GET", path, "read")
        assert refused.value.reason == "refused input"
    assert audit_log() == []


def test_a_plain_path_reaches_only_its_own_kv_endpoints(kv_backend, put_kv, kv, carol, audit_log):
    user, totp = carol
    path = put_kv("odd..name/a.b/key-1", "v", owner="team")  # dots inside a part are a plain name
    before = len(audit_log())

    secret = do_import_secret("kvtest", path, actor=user, otp=code(totp))
    get_backend("kvtest").write_metadata(secret.path, {"owner": "other"})
    sync_backend("kvtest", actor="test")

    served = audit_log()[before:]
    assert served and all(p.startswith(f"secret/metadata/{kv_backend}") for _op, p in served), served
    assert ("read", f"secret/metadata/{kv_backend}/odd..name/a.b/key-1") in served
    assert ("patch", f"secret/metadata/{kv_backend}/odd..name/a.b/key-1") in served


def test_a_key_with_a_percent_sign_in_openbao_is_read_as_that_key(kv_backend, kv, openbao, audit_log):
    """Keys come back from LIST as OpenBao stores them; the URL quotes them, so `%2e%2e` stays a
    name and never decodes into a dot segment."""
    import requests

    key = f"{kv_backend}/50%off%2e%2e"
    requests.post(
        f"{openbao.url}/v1/secret/data/{quote(key)}",  # encoded once: OpenBao stores the key as it is
        headers={"X-Vault-Token": openbao.token},
        json={"data": {"value": "x"}},
        timeout=5,
    ).raise_for_status()
    before = len(audit_log())

    run = sync_backend("kvtest", actor="test")

    assert run.state == "succeeded" and run.created == 1
    assert Secret.objects.get(backend="kvtest").path == f"secret/{kv_backend}/50%off%2e%2e"
    served = audit_log()[before:]
    assert ("read", f"secret/metadata/{kv_backend}/50%off%2e%2e") in served
    assert all(p.startswith(f"secret/metadata/{kv_backend}") for _op, p in served), served
