"""Password guessing: the lockout counts against the account whatever text named it, typed text
naming no account is never stored, the login page warns before the last attempt, and the lock
ends with the security team's unlock (one-time code) or a password reset — each audited."""

import random
import re
import time

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.db import connection
from django.test import Client

from secrets_admin.accounts.lockout import UNKNOWN, login_text_hash
from secrets_admin.audit.models import AuditEntry
from tests.accounts.factories import PASSWORD, code_at_step, last_entry

pytestmark = pytest.mark.django_db
LOGIN = "/accounts/login/"
WRONG = "wrong-password"


def new_client() -> Client:
    """A client with an address of its own (allauth's per-IP rate limit lives in Redis)."""
    return Client(REMOTE_ADDR=f"198.18.{random.randint(0, 255)}.{random.randint(1, 254)}")


def attempt(client, login, password=WRONG):
    return client.post(LOGIN, {"login": login, "password": password})


@pytest.fixture
def lockme(django_user_model):
    return django_user_model.objects.create_user("lockme", "lockme@example.test", PASSWORD)


def test_failures_count_against_the_account_whatever_text_named_it(lockme, settings):
    client = new_client()
    for text in ("lockme", "LockMe", "lockme@example.test", "LOCKME@EXAMPLE.TEST"):
        assert attempt(client, text).status_code == 200
    assert attempt(client, " lockme ").status_code == 429  # the fifth: locked
    assert list(AccessAttempt.objects.values_list("username", "failures_since_start")) == [("lockme", 5)]
    # The right password under another name does not get in, nor clear the lock.
    response = attempt(client, "lockme@example.test", PASSWORD)
    assert response.status_code == 429 and b"Too many failed logins" in response.content
    assert SESSION_KEY not in client.session
    assert AccessAttempt.objects.get().failures_since_start >= settings.AXES_FAILURE_LIMIT


def test_a_success_by_another_name_does_not_clear_this_accounts_failures(lockme, django_user_model):
    django_user_model.objects.create_user("bob", "bob@example.test", PASSWORD)
    client = new_client()
    for _ in range(4):
        attempt(client, "lockme")
    assert attempt(client, "bob", PASSWORD).status_code == 302  # bob, same address, logs in
    assert AccessAttempt.objects.get(username="lockme").failures_since_start == 4
    other = Client(REMOTE_ADDR=client.defaults["REMOTE_ADDR"])
    assert attempt(other, "LOCKME@example.test", PASSWORD).status_code == 302  # the account itself
    assert not AccessAttempt.objects.filter(username="lockme").exists()


def test_the_login_page_warns_before_the_last_attempt(lockme, settings):
    client = new_client()
    for number in range(1, settings.AXES_FAILURE_LIMIT):
        page = attempt(client, "lockme").content.decode()
        warned = "One more wrong password locks this login for 15 minutes" in page
        assert warned == (number == settings.AXES_FAILURE_LIMIT - 1), number
    assert 'id="last-attempt"' in page


def test_text_naming_no_account_is_kept_only_as_a_keyed_hash(settings):
    typed = "Correct-Horse-Staple-99"  # a password typed into the login box
    client = new_client()
    attempt(client, typed)
    attempt(client, typed.lower())
    attempt(client, "someone-else")
    hashes = list(
        AuditEntry.objects.filter(action="auth.login.failed")
        .order_by("id")
        .values_list("data__login_hash", flat=True)
    )
    assert hashes[0] == hashes[1] == login_text_hash(typed) != hashes[2]  # guesses of one name group
    entry = AuditEntry.objects.filter(action="auth.login.failed").latest("id")
    assert entry.target_type == "" and entry.ip == client.defaults["REMOTE_ADDR"]
    assert AccessAttempt.objects.get(username=UNKNOWN + login_text_hash(typed)).failures_since_start == 2
    # Nowhere in the ledger or in axes' tables, in any case.
    with connection.cursor() as cursor:
        for table in (AuditEntry, AccessAttempt, AccessFailureLog, AccessLog):
            cursor.execute(f"SELECT * FROM {table._meta.db_table}")  # noqa: S608 (fixed table names)
            dump = repr(cursor.fetchall()).lower()
            assert typed.lower() not in dump and "someone-else" not in dump, table
    settings.AUDIT_HMAC_KEY = "another-key"
    assert login_text_hash(typed) != hashes[0]  # keyed: no rainbow table without the key


def test_a_failed_login_names_the_account_as_unverified_subject_with_the_ip(lockme):
    client = new_client()
    attempt(client, "LockMe@Example.test")
    entry = last_entry("auth.login.failed")
    assert (entry.target_type, entry.target_id, entry.target_repr) == ("auth.user", str(lockme.pk), "lockme")
    assert entry.data == {"subject": "unverified"} and entry.actor_id is None
    assert entry.ip == client.defaults["REMOTE_ADDR"]


@pytest.fixture
def locked(lockme, settings):
    client = new_client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "lockme")
    assert attempt(client, "lockme", PASSWORD).status_code == 429
    return lockme, client


def test_members_shows_locked_accounts_and_the_security_team_unlocks_with_a_code(locked, person):
    lockme, victim_client = locked
    carol, device, client = person("carol", "security-team")
    page = client.get("/accounts/members/").content.decode()
    table = page[page.index('id="locked-accounts"') :]
    assert "lockme" in table and victim_client.defaults["REMOTE_ADDR"] in table

    wrong = client.post("/accounts/members/unlock/", {"unlock-user": lockme.pk, "unlock-otp_code": "000000"})
    assert wrong.status_code == 400 and AccessAttempt.objects.filter(username="lockme").exists()
    failed = last_entry("mfa.code.failed")
    assert failed.actor_id == carol.pk and failed.ip == "127.0.0.1"  # step-up failures carry the IP
    assert failed.data["purpose"] == f"auth.lockout.cleared:{lockme.pk}"

    time.sleep(1.1)  # the back-off after a wrong code
    data = {"unlock-user": lockme.pk, "unlock-otp_code": code_at_step(device, 0)}
    response = client.post("/accounts/members/unlock/", data)
    assert response.status_code == 302 and response["Location"] == "/accounts/members/"
    assert not AccessAttempt.objects.filter(username="lockme").exists()
    cleared = last_entry("auth.lockout.cleared")
    assert cleared.actor_id == carol.pk and cleared.target_id == str(lockme.pk)
    assert cleared.data == {
        "reason": "unlocked",
        "ips": [victim_client.defaults["REMOTE_ADDR"]],
        "username": "lockme",
    }
    assert attempt(victim_client, "lockme", PASSWORD).status_code == 302
    assert "Nobody is locked out" in client.get("/accounts/members/").content.decode()


@pytest.mark.parametrize("group", ["developers", "cto", "managers"])
def test_only_the_security_team_unlocks(locked, person, group):
    lockme, _ = locked
    _, device, client = person("eve", group)
    response = client.post(
        "/accounts/members/unlock/", {"unlock-user": lockme.pk, "unlock-otp_code": code_at_step(device, 0)}
    )
    assert response.status_code == 403
    assert AccessAttempt.objects.filter(username="lockme").exists()


def test_a_password_reset_ends_the_lockout_and_is_audited(locked):
    lockme, client = locked
    reset = new_client()
    assert reset.post("/accounts/password/reset/", {"email": "lockme@example.test"}).status_code == 302
    link = re.search(r"https?://[^/]+(/accounts/password/reset/key/\S+/)", mail.outbox[-1].body).group(1)
    form_url = reset.get(link)["Location"]  # allauth swaps the key for a session-bound URL
    new = "a-brand-new-password-42"
    response = reset.post(form_url, {"password1": new, "password2": new})
    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(username="lockme").exists()
    assert last_entry("auth.password.reset").actor_id == lockme.pk
    cleared = last_entry("auth.lockout.cleared")
    assert cleared.target_id == str(lockme.pk) and cleared.data["reason"] == "password_reset"
    assert cleared.data["ips"] == [client.defaults["REMOTE_ADDR"]]
    assert attempt(client, "lockme", new).status_code == 302  # "you can now log in" is true


def test_the_reset_email_for_an_unknown_address_names_the_console_and_no_closed_sign_up(settings):
    settings.SIGNUP_OPEN = False
    settings.SITE_NAME = "Acme Secrets Console"
    new_client().post("/accounts/password/reset/", {"email": "nobody@example.test"})
    body = mail.outbox[-1].body
    assert "Hello from the Acme Secrets Console" in body and "127.0.0.1" not in body
    assert "/accounts/signup/" not in body and "ask your security team" in body
    settings.SIGNUP_OPEN = True
    new_client().post("/accounts/password/reset/", {"email": "nobody@example.test"})
    assert "/accounts/signup/" in mail.outbox[-1].body


def test_every_failure_entry_carries_the_ip(lockme, person):
    from secrets_admin.accounts.models import AuthenticatorDevice

    carol, device, carol_client = person("carol", "security-team")
    address = carol_client.defaults.get("REMOTE_ADDR", "127.0.0.1")
    guesser = new_client()
    attempt(guesser, "lockme")  # wrong password
    attempt(guesser, "no-such-person")  # a name that is no account
    AuthenticatorDevice.objects.create(
        user=lockme, name="app", confirmed=True, encrypted_key=device.encrypted_key
    )
    attempt(guesser, "lockme", PASSWORD)
    guesser.post("/accounts/mfa/verify/", {"code": "000000" if code_at_step(device, 0) != "000000" else "1"})
    carol_client.post(
        "/accounts/members/", {"user": lockme.pk, "group": "cto", "change": "add", "otp_code": "1"}
    )
    wrong = "000000" if code_at_step(device, 0) != "000000" else "111111"
    data = {"user": lockme.pk, "group": "cto", "change": "add", "otp_code": wrong}
    assert carol_client.post("/accounts/members/", data).status_code == 400  # a refused step-up
    carol_client.post("/accounts/mfa/recovery-codes/download/", {"codes": "aaaaaa-bbbbbb-cccccc"})
    failures = AuditEntry.objects.filter(
        action__in=[
            "auth.login.failed",
            "mfa.code.failed",
            "group.member.refused",
            "mfa.recovery_codes.download_refused",
        ]
    )
    assert set(failures.values_list("action", flat=True)) == {
        "auth.login.failed",
        "mfa.code.failed",
        "group.member.refused",
        "mfa.recovery_codes.download_refused",
    }
    by_ip = {(entry.action, entry.ip) for entry in failures}
    assert ("auth.login.failed", guesser.defaults["REMOTE_ADDR"]) in by_ip
    assert ("mfa.code.failed", guesser.defaults["REMOTE_ADDR"]) in by_ip
    assert ("group.member.refused", address) in by_ip
    step_up = failures.get(action="mfa.code.failed", data__step_up=True)  # written after the request
    assert step_up.ip == address and step_up.actor_id == carol.pk
    assert all(entry.ip for entry in failures), [(e.action, e.ip) for e in failures if not e.ip]
