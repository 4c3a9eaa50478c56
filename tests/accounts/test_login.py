"""The real login flow (allauth password step + our second-factor stage) through the test client."""

import itertools

import pytest
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.test import Client as DjangoClient
from django.test import override_settings
from django_otp import DEVICE_ID_SESSION_KEY

from secrets_admin.accounts import services
from secrets_admin.accounts.models import AuthenticatorDevice
from tests.accounts.factories import PASSWORD, actions, code_at_step, last_entry, make_device, totp_for

pytestmark = pytest.mark.django_db


def Client(**defaults):  # noqa: N802  (a drop-in for django.test.Client)
    """A test client with its own documentation-range IP: allauth limits login POSTs per IP per
    minute in the (session-wide) cache, and this module alone posts dozens of logins."""
    defaults.setdefault("REMOTE_ADDR", f"192.0.2.{next(_ips)}")
    return DjangoClient(**defaults)


_ips = itertools.cycle(range(1, 255))

LOGIN, VERIFY = "/accounts/login/", "/accounts/mfa/verify/"


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user("alice", "alice@candlefish.example", PASSWORD)


def password_step(client, login="alice", password=PASSWORD, next_url="/accounts/mfa/"):
    return client.post(LOGIN, {"login": login, "password": password, "next": next_url})


def test_a_user_with_an_authenticator_needs_its_code_to_finish_logging_in(alice):
    device = make_device(alice)
    client = Client()
    response = password_step(client)
    assert response.status_code == 302 and response["Location"] == VERIFY
    assert SESSION_KEY not in client.session  # the password alone logs nobody in
    assert client.get("/accounts/mfa/").status_code == 302

    response = client.post(VERIFY, {"code": totp_for(device).now()})
    assert response.status_code == 302 and response["Location"] == "/accounts/mfa/"
    assert client.session[SESSION_KEY] == str(alice.pk)
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert client.get("/accounts/mfa/").status_code == 200
    assert actions(actor=alice)[-2:] == ["mfa.login.verified", "auth.login.succeeded"]
    assert last_entry("auth.login.succeeded").data == {"second_factor": True}


def test_login_by_email_works_too(alice):
    device = make_device(alice)
    client = Client()
    assert password_step(client, login="alice@candlefish.example")["Location"] == VERIFY
    assert client.post(VERIFY, {"code": totp_for(device).now()}).status_code == 302
    assert client.session[SESSION_KEY] == str(alice.pk)


def test_without_a_device_development_logs_in_with_the_password_only(alice, settings):
    settings.MFA_REQUIRED = False
    client = Client()
    assert password_step(client)["Location"] == "/accounts/mfa/"
    assert client.session[SESSION_KEY] == str(alice.pk)
    assert last_entry("auth.login.succeeded").data == {"second_factor": False}


def test_a_wrong_password_is_refused_and_audited(alice):
    client = Client()
    response = password_step(client, password="not-the-password")
    assert response.status_code == 200
    assert b"not correct" in response.content
    assert SESSION_KEY not in client.session
    failed = last_entry("auth.login.failed")
    assert (
        failed.data == {"subject": "unverified"}
        and failed.actor_name == "anonymous"
        and failed.actor_id is None
    )
    assert (failed.target_type, failed.target_id) == ("auth.user", str(alice.pk))


def test_a_wrong_code_is_refused_throttled_and_audited(alice):
    device = make_device(alice)
    client = Client()
    password_step(client)
    response = client.post(VERIFY, {"code": "000000" if totp_for(device).now() != "000000" else "111111"})
    assert response.status_code == 400
    assert b"That code is not right" in response.content
    assert SESSION_KEY not in client.session
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    failed = last_entry("mfa.code.failed")
    assert (
        failed.actor_id == alice.pk and failed.data["reason"] == "wrong" and failed.data["purpose"] == "login"
    )

    response = client.post(VERIFY, {"code": totp_for(device).now()})  # right code, but inside the back-off
    assert response.status_code == 400 and b"Too many wrong codes" in response.content
    assert SESSION_KEY not in client.session
    assert last_entry("mfa.code.failed").data["reason"] == "throttled"


def test_a_code_used_for_one_login_is_refused_for_the_next(alice):
    device = make_device(alice)
    code = code_at_step(device, 0)
    first = Client()
    password_step(first)
    assert first.post(VERIFY, {"code": code}).status_code == 302
    second = Client()
    password_step(second)
    response = second.post(VERIFY, {"code": code})
    assert response.status_code == 400 and b"already used" in response.content
    assert SESSION_KEY not in second.session
    assert last_entry("mfa.code.failed").data["reason"] == "reused"


def test_a_recovery_code_logs_in_once(alice):
    device = make_device(alice, confirmed=False)
    codes = services.do_confirm_authenticator(actor=alice, device_id=device.pk, code=totp_for(device).now())
    client = Client()
    password_step(client)
    assert client.post(VERIFY, {"code": codes[3].upper()}).status_code == 302
    assert client.session[SESSION_KEY] == str(alice.pk)
    assert last_entry("mfa.login.verified").data == {"device": "recovery_code", "recovery_codes_left": 9}

    again = Client()
    password_step(again)
    response = again.post(VERIFY, {"code": codes[3]})
    assert response.status_code == 400 and b"recovery code was already used" in response.content
    assert SESSION_KEY not in again.session
    assert last_entry("mfa.code.failed").data["reason"] == "recovery_code_used"


def test_login_keeps_working_with_openbao_down(alice, settings):
    device = make_device(alice)
    dead = {**settings.SECRET_BACKENDS["vault"], "url": "http://127.0.0.1:9", "token": "nope"}
    with override_settings(SECRET_BACKENDS={**settings.SECRET_BACKENDS, "vault": dead}):
        client = Client()
        password_step(client)
        assert client.post(VERIFY, {"code": totp_for(device).now()}).status_code == 302
        assert client.get("/accounts/mfa/").status_code == 200
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id


def test_the_verify_page_without_a_pending_login_goes_back_to_login():
    response = Client().get(VERIFY)
    assert response.status_code == 302 and response["Location"] == LOGIN


def test_repeated_wrong_passwords_lock_the_login_out_and_are_audited(alice, settings):
    client = Client()
    statuses = [
        password_step(client, password=f"wrong-{i}").status_code for i in range(settings.AXES_FAILURE_LIMIT)
    ]
    assert statuses[-1] == 429
    page = password_step(client).content.decode()  # even the right password is refused now
    assert "Too many failed logins" in page and "locked for 15 minutes after 5 wrong passwords" in page
    assert SESSION_KEY not in client.session
    locked = last_entry("auth.lockout")
    assert locked.target_id == str(alice.pk) and locked.data == {"subject": "unverified"}
    assert actions().count("auth.login.failed") >= settings.AXES_FAILURE_LIMIT


def test_sign_up_is_closed_unless_configured(django_user_model, settings):
    settings.SIGNUP_OPEN = False
    data = {"username": "mallory", "email": "m@example.com", "password1": PASSWORD, "password2": PASSWORD}
    response = Client().post("/accounts/signup/", data)
    assert b"Sign-up is closed" in response.content
    assert not django_user_model.objects.filter(username="mallory").exists()


def test_password_reset_sends_text_and_html_mail(alice):
    response = Client().post("/accounts/password/reset/", {"email": "alice@candlefish.example"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject == "[Candlefish] Reset your Candlefish password"
    assert "/accounts/password/reset/key/" in message.body
    html = message.alternatives[0][0]
    assert "<a href=" in html and "/accounts/password/reset/key/" in html


def test_a_pending_device_cannot_be_used_to_log_in(alice):
    pending = make_device(alice, confirmed=False)
    client = Client()
    password_step(client)  # no confirmed device: logged in right away (development)
    assert client.session[SESSION_KEY] == str(alice.pk)
    assert DEVICE_ID_SESSION_KEY not in client.session
    assert AuthenticatorDevice.objects.get(pk=pending.pk).confirmed is False


def test_password_change_needs_the_current_password_and_is_audited(alice):
    client = Client()
    client.force_login(alice)
    new = "a-brand-new-password-42"
    response = client.post(
        "/accounts/password/change/", {"oldpassword": "wrong-password", "password1": new, "password2": new}
    )
    assert response.status_code == 200 and b"current password" in response.content.lower()
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)
    response = client.post(
        "/accounts/password/change/", {"oldpassword": PASSWORD, "password1": new, "password2": new}
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password(new)
    assert last_entry("auth.password.changed").actor_id == alice.pk


def test_a_tampered_code_field_is_refused_and_audited(alice):
    make_device(alice)
    client = Client()
    password_step(client)
    response = client.post(VERIFY, {"code": "9" * 500})
    assert response.status_code == 400
    assert SESSION_KEY not in client.session
    assert last_entry("mfa.code.failed").data == {
        "purpose": "login",
        "reason": "invalid_form",
        "step_up": False,
    }


def test_password_spraying_from_one_ip_is_capped():
    client = Client(REMOTE_ADDR="198.51.100.7")  # its own IP: the cache-based counter is per IP
    for i in range(30):  # allauth's "login" limit: 30 attempts per minute per IP
        response = client.post(LOGIN, {"login": f"sprayed-{i}", "password": "Winter2026!"})
        assert b"not correct" in response.content
    response = client.post(LOGIN, {"login": "sprayed-last", "password": "Winter2026!"})
    assert response.status_code == 429
    assert SESSION_KEY not in client.session
