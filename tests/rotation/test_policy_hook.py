"""A policy's rotation hook page: the security team sets and clears it with a one-time code,
the URL and key are stored encrypted and never shown back, every change is audited, and the
policy's secrets use it unless they have their own."""

import pytest

from secrets_admin.audit.models import AuditEntry
from secrets_admin.inventory.models import RotationPolicy
from secrets_admin.rotation.hooks import hook_for
from secrets_admin.rotation.models import RotationHook
from tests.inventory.conftest import code

pytestmark = pytest.mark.django_db

URL, KEY = "https://keys.example/hooks/rotate?tenant=7&token=abc", "policy-signing-key-0123456"


@pytest.fixture
def carol(people, totp_for, client_for):
    user = people["security-team"]
    return user, totp_for(user), client_for(user)


def test_a_policy_hook_is_set_encrypted_used_by_its_secrets_and_cleared(carol, make_secret):
    user, totp, client = carol
    policy = RotationPolicy.objects.get(kind="api_key", is_default=True)
    page = f"/rotation/policies/{policy.pk}/hook/"
    secret, own = make_secret("secret/policy-hook/a"), make_secret("secret/policy-hook/b")
    RotationHook.objects.create(secret=own, host="own.example", encrypted_url="x", encrypted_key="x")
    assert "No hook" in client.get(page).content.decode()

    answer = client.post(page, {"url": URL, "key": KEY, "otp_code": code(totp)})
    assert answer.status_code == 302 and answer["Location"] == page
    hook = RotationHook.objects.get(policy=policy)
    assert (hook.host, hook.url, hook.signing_key) == ("keys.example", URL, KEY.encode())
    assert "tenant" not in hook.encrypted_url and KEY not in hook.encrypted_key
    entry = AuditEntry.objects.get(action="rotation.hook.updated")
    assert entry.actor == user and entry.data == {"host": "keys.example", "for": "policy"}
    assert hook_for(secret) == hook and hook_for(own).secret == own  # the secret's own wins
    for shown in (page, "/schedule/policies/", f"/inventory/{secret.pk}/"):
        html = client.get(shown).content.decode()
        assert "tenant=7" not in html and "token=abc" not in html and KEY not in html
    assert "keys.example" in client.get(page).content.decode()

    cleared = client.post(f"{page}clear/", {"clear-otp_code": code(totp, 1)})
    assert cleared.status_code == 302 and not RotationHook.objects.filter(policy=policy).exists()
    entry = AuditEntry.objects.get(action="rotation.hook.removed")
    assert entry.actor == user and entry.data == {"host": "keys.example", "for": "policy"}
    assert hook_for(secret) is None and hook_for(own).secret == own
    assert "No hook" in client.get(page).content.decode()


def test_a_wrong_code_sets_nothing_and_clears_nothing(carol):
    _, _, client = carol
    policy = RotationPolicy.objects.get(kind="api_key", is_default=True)
    page = f"/rotation/policies/{policy.pk}/hook/"
    refused = client.post(page, {"url": URL, "key": KEY, "otp_code": "000000"})
    assert refused.status_code == 400 and not RotationHook.objects.filter(policy=policy).exists()
    RotationHook.objects.create(policy=policy, host="keys.example", encrypted_url="x", encrypted_key="x")
    wrong = client.post(f"{page}clear/", {"clear-otp_code": "000000"})
    assert wrong.status_code == 400 and RotationHook.objects.filter(policy=policy).exists()
    assert not AuditEntry.objects.filter(action__startswith="rotation.hook").exists()


def test_a_bad_url_or_short_key_is_named_and_nothing_is_saved(carol):
    _, totp, client = carol
    policy = RotationPolicy.objects.get(kind="api_key", is_default=True)
    page = f"/rotation/policies/{policy.pk}/hook/"
    answer = client.post(page, {"url": "ftp://x", "key": "short", "otp_code": code(totp)})
    html = answer.content.decode()
    assert answer.status_code == 400 and "Enter a valid URL" in html and "at least 16" in html
    assert not RotationHook.objects.exists() and not AuditEntry.objects.filter(
        action__startswith="rotation.hook"
    )


def test_others_cannot_open_or_change_a_policy_hook(people, client_for):
    policy = RotationPolicy.objects.get(kind="api_key", is_default=True)
    for group in ("developers", "managers", "cto"):
        client = client_for(people[group])
        assert client.get(f"/rotation/policies/{policy.pk}/hook/").status_code == 403
        assert client.post(f"/rotation/policies/{policy.pk}/hook/clear/", {}).status_code == 403
    assert not RotationHook.objects.exists()
