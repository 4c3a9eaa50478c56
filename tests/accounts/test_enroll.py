"""Enrollment, recovery codes, forced enrollment and the admin gate."""

import re
import time

import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY

from secrets_admin.accounts.models import AuthenticatorDevice, RecoveryCode, RecoveryCodeDevice
from tests.accounts.factories import actions, code_at_step, last_entry, totp_for

pytestmark = pytest.mark.django_db
ENROLL = "/accounts/mfa/enroll/"


def key_on_page(html: str) -> str:
    return re.search(r'id="totp-key" data-key="([A-Z2-7]+)"', html).group(1)


def enroll(client, user):
    page = client.get(ENROLL).content.decode()
    device = AuthenticatorDevice.objects.get(user=user, confirmed=False)
    return page, device


def test_enrollment_shows_a_qr_code_and_the_key_and_activates_only_with_a_code(person):
    user, _, client = person("bob", "developers", device=False)
    page, device = enroll(client, user)
    assert 'src="data:image/svg+xml' in page
    assert key_on_page(page) == device.base32_key
    assert "style=" not in page and "<script>" not in page  # strict CSP: nothing inline

    response = client.post(
        ENROLL, {"device_id": device.pk, "code": "000000" if totp_for(device).now() != "000000" else "111111"}
    )
    assert response.status_code == 400 and b"That code is not right" in response.content
    assert AuthenticatorDevice.objects.get(pk=device.pk).confirmed is False
    assert last_entry("mfa.code.failed").data == {"purpose": "enroll", "reason": "wrong", "step_up": False}

    time.sleep(1.1)  # back-off after the wrong code
    response = client.post(ENROLL, {"device_id": device.pk, "code": totp_for(device).now()})
    assert response.status_code == 200
    device.refresh_from_db()
    assert device.confirmed is True
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    codes = re.findall(r"<li>([a-z2-9]{6}-[a-z2-9]{6}-[a-z2-9]{6})</li>", response.content.decode())
    assert len(codes) == 10
    stored = list(RecoveryCode.objects.filter(device__user=user).values_list("code_hash", flat=True))
    assert len(stored) == 10 and not set(c.replace("-", "") for c in codes) & set(stored)
    assert actions(actor=user)[-2:] == ["mfa.device.added", "mfa.recovery_codes.generated"]


def test_someone_elses_pending_device_cannot_be_confirmed(person):
    victim, _, victim_client = person("alice", "developers", device=False)
    _, victim_device = enroll(victim_client, victim)
    attacker, _, client = person("mallory", "developers", device=False)
    enroll(client, attacker)
    response = client.post(ENROLL, {"device_id": victim_device.pk, "code": totp_for(victim_device).now()})
    assert response.status_code == 400 and b"setup expired" in response.content
    assert not AuthenticatorDevice.objects.filter(confirmed=True).exists()
    assert last_entry("mfa.code.failed").data["reason"] == "no_pending_device"


def test_recovery_codes_download_as_text_only_for_their_owner(person):
    user, _, client = person("bob", "developers", device=False)
    _, device = enroll(client, user)
    page = client.post(ENROLL, {"device_id": device.pk, "code": totp_for(device).now()}).content.decode()
    codes = re.findall(r"<li>([a-z2-9]{6}-[a-z2-9]{6}-[a-z2-9]{6})</li>", page)
    response = client.post("/accounts/mfa/recovery-codes/download/", {"codes": " ".join(codes)})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    assert all(code in response.content.decode() for code in codes)

    tampered = " ".join([*codes[:9], "aaaaaa-bbbbbb-cccccc"])
    response = client.post("/accounts/mfa/recovery-codes/download/", {"codes": tampered})
    assert response.status_code == 400 and b"not your current recovery codes" in response.content
    other, _, other_client = person("eve", "developers", device=False)
    assert (
        other_client.post("/accounts/mfa/recovery-codes/download/", {"codes": " ".join(codes)}).status_code
        == 400
    )


def test_recovery_codes_regenerate_only_with_a_fresh_code(person):
    user, device, client = person("dave", "security-team")
    response = client.post("/accounts/mfa/recovery-codes/", {"otp_code": "12"})
    assert response.status_code == 400
    assert not RecoveryCodeDevice.objects.filter(user=user).exists()
    response = client.post("/accounts/mfa/recovery-codes/", {"otp_code": code_at_step(device, 0)})
    assert response.status_code == 200
    first = re.findall(r"<li>([a-z2-9]{6}-[a-z2-9]{6}-[a-z2-9]{6})</li>", response.content.decode())
    assert len(first) == 10
    reused = client.post("/accounts/mfa/recovery-codes/", {"otp_code": code_at_step(device, 0)})
    assert reused.status_code == 400 and b"already used" in reused.content
    assert RecoveryCode.objects.filter(device__user=user).count() == 10
    assert last_entry("mfa.code.failed").data == {
        "purpose": "mfa.recovery_codes.regenerate",
        "reason": "reused",
        "step_up": True,
    }


def test_with_mfa_required_a_user_without_a_device_must_enroll_first(person, settings):
    settings.MFA_REQUIRED = True
    user, _, client = person("bob", "developers", device=False)
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == f"{ENROLL}?next=%2F"
    assert client.get("/accounts/members/").status_code == 302
    assert client.get("/healthz").status_code == 200
    page, device = enroll(client, user)
    client.post(ENROLL, {"device_id": device.pk, "code": totp_for(device).now(), "next": "/"})
    assert client.get("/").status_code == 200


def test_with_mfa_required_an_unverified_session_goes_to_the_code_page(person, settings):
    settings.MFA_REQUIRED = True
    user, device, client = person("carol", "security-team", verified=False)
    response = client.get("/accounts/mfa/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/mfa/verify/")
    response = client.post(
        "/accounts/mfa/verify/", {"code": totp_for(device).now(), "next": "/accounts/mfa/"}
    )
    assert response.status_code == 302 and response["Location"] == "/accounts/mfa/"
    assert client.get("/accounts/mfa/").status_code == 200


def test_the_admin_needs_a_verified_superuser(person):
    _, _, root = person("root", superuser=True)
    assert root.get("/admin/").status_code == 200
    _, _, unverified_root = person("root2", superuser=True, verified=False)
    assert unverified_root.get("/admin/").status_code == 302  # to the code page first
    _, _, no_device_root = person("root3", superuser=True, device=False)
    assert no_device_root.get("/admin/").status_code == 403
    _, _, staff = person("carol", "security-team")
    assert staff.get("/admin/").status_code == 403
    response = Client().get("/admin/audit/")
    assert response.status_code == 302  # straight to the console's login, not the admin's
    assert response["Location"] == "/accounts/login/?next=%2Fadmin%2Faudit%2F"


@pytest.mark.parametrize(
    ("url", "data", "purpose"),
    [
        (ENROLL, {"device_id": "1 OR 1=1", "code": "123456"}, "enroll"),
        (ENROLL, {"code": "123456"}, "enroll"),
        ("/accounts/mfa/recovery-codes/", {"otp_code": "x" * 50}, "mfa.recovery_codes.regenerate"),
    ],
)
def test_tampered_code_forms_are_refused_change_nothing_and_are_audited(person, url, data, purpose):
    user, _, client = person("bob", "developers", device=False)
    client.get(ENROLL)
    response = client.post(url, data)
    assert response.status_code == 400
    assert not AuthenticatorDevice.objects.filter(user=user, confirmed=True).exists()
    assert not RecoveryCodeDevice.objects.filter(user=user).exists()
    assert last_entry("mfa.code.failed").data == {
        "purpose": purpose,
        "reason": "invalid_form",
        "step_up": False,
    }


def test_a_refused_recovery_code_download_is_audited(person):
    user, _, client = person("bob", "developers")
    response = client.post("/accounts/mfa/recovery-codes/download/", {"codes": "aaaaa-bbbbb"})
    assert response.status_code == 400
    assert last_entry("mfa.recovery_codes.download_refused").actor_id == user.pk


def test_a_lost_phone_is_replaced_with_a_recovery_code(person):
    user, _, client = person("bob", "developers", device=False)
    _, old = enroll(client, user)
    page = client.post(ENROLL, {"device_id": old.pk, "code": totp_for(old).now()}).content.decode()
    codes = re.findall(r"<li>([a-z2-9]{6}-[a-z2-9]{6}-[a-z2-9]{6})</li>", page)
    response = client.post(
        "/accounts/mfa/remove/", {"code": "000000" if totp_for(old).now() != "000000" else "1"}
    )
    assert response.status_code == 400 and AuthenticatorDevice.objects.filter(pk=old.pk).exists()
    assert last_entry("mfa.code.failed").data["purpose"] == "mfa.device.remove"
    time.sleep(1.1)  # back-off after the wrong code

    response = client.post("/accounts/mfa/remove/", {"code": codes[0]})
    assert response.status_code == 302 and response["Location"] == ENROLL
    assert not AuthenticatorDevice.objects.filter(user=user).exists()
    assert last_entry("mfa.device.removed").data == {
        "removed": ["Authenticator app"],
        "verified_with": "recovery_code",
    }
    _, new = enroll(client, user)  # the session stays verified (recovery codes) and enrolls anew
    assert new.pk != old.pk
    client.post(ENROLL, {"device_id": new.pk, "code": totp_for(new).now()})
    new.refresh_from_db()
    assert new.confirmed and new.base32_key != old.base32_key


def test_an_unverified_session_with_recovery_codes_must_verify_before_enrolling(person):
    from secrets_admin.accounts.models import RecoveryCodeDevice

    user, _, client = person("bob", "developers", device=False)
    RecoveryCodeDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    response = client.get(ENROLL)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/mfa/verify/")
    assert not AuthenticatorDevice.objects.filter(user=user).exists()
