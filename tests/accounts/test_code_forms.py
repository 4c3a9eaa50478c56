"""One-time-code forms behave the same everywhere: the code box last, right above the submit
button, one label, autocomplete="one-time-code" and inputmode="numeric"; a refused code is not
shown again; no authenticator means a notice with a link before anything is typed. Pages showing a
one-time secret are never stored; recovery codes carry 89 bits, and old 50-bit codes still work."""

import hashlib
import math
import re
from html.parser import HTMLParser

import pytest
from django.test import Client

from secrets_admin.accounts import services
from secrets_admin.accounts.models import RecoveryCode, RecoveryCodeDevice, new_recovery_code
from secrets_admin.accounts.stepup import CODE_LABEL
from tests.accounts.factories import PASSWORD, code_at_step, make_device, totp_for, verified_client

pytestmark = pytest.mark.django_db


class Forms(HTMLParser):
    """Each <form>'s controls in document order, and every label's text by its `for`."""

    def __init__(self, html):
        super().__init__()
        self.forms, self.labels, self._form, self._label = [], {}, None, None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._form = []
            self.forms.append(self._form)
        elif tag in ("input", "select", "textarea", "button") and self._form is not None:
            self._form.append((tag, attrs))
        elif tag == "label" and attrs.get("for"):
            self._label = attrs["for"]
            self.labels[self._label] = ""

    def handle_data(self, data):
        if self._label:
            self.labels[self._label] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "label":
            self._label = None


def code_forms(html):
    parsed = Forms(html)
    found = []
    for controls in parsed.forms:
        visible = [(t, a) for t, a in controls if not (t == "input" and a.get("type") == "hidden")]
        codes = [a for t, a in visible if a.get("autocomplete") == "one-time-code"]
        if codes:
            found.append((visible, codes[0], parsed.labels.get(codes[0].get("id"), "").strip()))
    return found


def assert_uniform(html, where):
    forms = code_forms(html)
    assert forms, f"{where}: no code form"
    for visible, code, label in forms:
        assert label == CODE_LABEL, f"{where}: label {label!r}"
        assert code.get("inputmode") == "numeric" and code.get("type") == "text", where
        assert "value" not in code, f"{where}: the code box is pre-filled"
        position = visible.index(("input", code))
        assert visible[position + 1][0] == "button" and visible[position + 1][1].get("type") == "submit", (
            f"{where}: the code box is not right above the submit button"
        )
        assert all(t == "button" for t, _ in visible[position + 1 :]), f"{where}: fields after the code"


@pytest.fixture
def carol(person):
    return person("carol", "security-team")


def test_every_code_form_looks_the_same(carol, person):
    from secrets_admin.inventory.models import Secret

    user, device, client = carol
    RecoveryCodeDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    secret = Secret.objects.create(backend="vault", path="secret/forms/key", kind="api_key")
    pages = ["/accounts/mfa/", "/accounts/mfa/remove/", "/accounts/members/", f"/inventory/{secret.pk}/edit/"]
    pages += ["/inventory/register/", "/alerts/routing/", "/alerts/channels/new/slack/"]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_uniform(response.content.decode(), url)

    # The second login step and enrollment.
    bob = Client()
    alice = person("alice", "developers", device=False)[0]
    make_device(alice)
    bob.post("/accounts/login/", {"login": "alice", "password": PASSWORD})
    assert_uniform(bob.get("/accounts/mfa/verify/").content.decode(), "verify")
    _, _, newcomer = person("nina", "developers", device=False)
    assert_uniform(newcomer.get("/accounts/mfa/enroll/").content.decode(), "enroll")


def test_a_refused_code_is_cleared(carol, person):
    user, device, client = carol
    alice, _, _ = person("alice", "developers", device=False)
    wrong = "000000" if code_at_step(device, 0) != "000000" else "111111"
    data = {"user": alice.pk, "group": "cto", "change": "add", "otp_code": wrong}
    response = client.post("/accounts/members/", data)
    html = response.content.decode()
    assert response.status_code == 400 and "That code is not right" in html
    assert wrong not in html
    ((_, code, _),) = code_forms(html)
    assert "value" not in code
    assert 'id="id_otp_code_error"' in html and "data-focus-error" in html


def test_without_an_authenticator_the_form_says_to_set_one_up_first(person):
    _, _, client = person("dave", "security-team", device=False)
    html = client.get("/accounts/members/").content.decode()
    notice = html.index('id="needs-authenticator"')
    assert notice < html.index('id="id_user"')  # before anything is typed
    assert 'href="/accounts/mfa/enroll/?next=/accounts/members/"' in html
    _, _, ready = person("carol", "security-team")
    assert 'id="needs-authenticator"' not in ready.get("/accounts/members/").content.decode()


def test_removing_the_authenticator_asks_for_confirmation_first(carol):
    user, device, client = carol
    page = client.get("/accounts/mfa/").content.decode()
    assert 'href="/accounts/mfa/remove/"' in page and 'action="/accounts/mfa/remove/"' not in page
    confirm = client.get("/accounts/mfa/remove/").content.decode()
    assert "Remove your authenticator app?" in confirm and "codes from the old app stop working" in confirm
    assert device.__class__.objects.filter(pk=device.pk).exists()  # looking removes nothing
    response = client.post("/accounts/mfa/remove/", {"code": code_at_step(device, 0)})
    assert response.status_code == 302 and not device.__class__.objects.filter(pk=device.pk).exists()


def test_a_warning_shows_when_two_or_fewer_recovery_codes_are_left(person):
    user, _, _ = person("bob", "developers", device=False)
    device = make_device(user, confirmed=False)
    codes = services.do_confirm_authenticator(actor=user, device_id=device.pk, code=totp_for(device).now())
    client = verified_client(user, device)
    assert 'id="few-recovery-codes"' not in client.get("/accounts/mfa/").content.decode()
    for code in codes[:8]:
        assert services.do_verify_login(user=user, code=code) is not None
    page = client.get("/accounts/mfa/").content.decode()
    assert 'id="few-recovery-codes"' in page and "Only 2 recovery codes left" in page

    # And at login with a recovery code.
    login = Client()
    login.post("/accounts/login/", {"login": "bob", "password": PASSWORD})
    response = login.post("/accounts/mfa/verify/", {"code": codes[8], "use": "recovery"}, follow=True)
    assert "Only 1 recovery code left" in response.content.decode()


def test_the_login_step_takes_a_recovery_code_in_a_text_box(person):
    user, _, _ = person("bob", "developers", device=False)
    device = make_device(user, confirmed=False)
    codes = services.do_confirm_authenticator(actor=user, device_id=device.pk, code=totp_for(device).now())
    client = Client()
    client.post("/accounts/login/", {"login": "bob", "password": PASSWORD})
    page = client.get("/accounts/mfa/verify/?use=recovery").content.decode()
    (box,) = [a for t, a in Forms(page).forms[0] if a.get("name") == "code"]
    assert box.get("inputmode") == "text" and box.get("autocomplete") == "off"
    assert client.post("/accounts/mfa/verify/", {"code": codes[0], "use": "recovery"}).status_code == 302


@pytest.mark.parametrize("method", ["enroll", "regenerate", "download"])
def test_pages_showing_a_secret_are_never_stored(person, method):
    user, device, client = person("bob", "developers", device=method == "regenerate")
    if method == "enroll":
        response = client.get("/accounts/mfa/enroll/")
    elif method == "regenerate":
        response = client.post("/accounts/mfa/recovery-codes/", {"otp_code": code_at_step(device, 0)})
    else:
        response = client.post("/accounts/mfa/recovery-codes/download/", {"codes": "aaaaaa-bbbbbb-cccccc"})
    cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"no-store", "no-cache", "private", "max-age=0"} <= cache_control, response["Cache-Control"]
    assert response["Pragma"] == "no-cache"


def test_recovery_codes_carry_at_least_80_bits():
    code = new_recovery_code()
    assert re.fullmatch(r"[a-z2-9]{6}-[a-z2-9]{6}-[a-z2-9]{6}", code)
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    assert 18 * math.log2(len(alphabet)) >= 80
    assert len({new_recovery_code() for _ in range(1000)}) == 1000


def test_codes_of_the_old_ten_letter_form_keep_working_until_regenerated(person):
    user, device, client = person("bob", "developers")
    recovery = RecoveryCodeDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    old = "abcde-fghjk"  # stored before the change: SHA-256 of the normalised text
    RecoveryCode.objects.create(device=recovery, code_hash=hashlib.sha256(b"abcdefghjk").hexdigest())
    assert services.do_verify_login(user=user, code=old.upper()) == recovery
    device.refresh_from_db()
    assert device.throttling_failure_count == 0  # a recovery code does not slow the app's codes
    RecoveryCode.objects.create(device=recovery, code_hash=hashlib.sha256(b"mnpqrstuvw").hexdigest())
    services.do_regenerate_recovery_codes(actor=user, otp_code=code_at_step(device, 0))
    with pytest.raises(Exception, match="not right"):
        services.do_verify_login(user=user, code="mnpqr-stuvw")  # regenerated: the old set is gone
