"""Schedule pages: who sees what, forms that say what to fix and save nothing then, and the
calendar as a table with collisions flagged."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from secrets_admin.audit.models import AuditEntry
from secrets_admin.inventory.models import RotationPolicy
from secrets_admin.schedule import actions
from secrets_admin.schedule.models import PolicySettings, SecretLink, SecretOverride
from secrets_admin.schedule.services.policies import policy_values
from tests.accounts.factories import code_at_step
from tests.schedule.conftest import member

pytestmark = pytest.mark.django_db


def form_data(policy, **changes):
    values = {**policy_values(policy), **changes}
    data = {k: "" if v is None else v for k, v in values.items() if k != "window_days"}
    data["window_days"] = values["window_days"]
    return data


def assert_strict_page(page):
    assert " style=" not in page and "<style" not in page
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), "inline script"


def test_a_developer_reads_policies_without_edit_links(api_policy):
    _, _, client = member("dan", "developers")
    page = client.get("/schedule/policies/").content.decode()
    assert "api-key-90-days" in page and "every 90 days" in page
    assert f"/schedule/policies/{api_policy.pk}/edit/" not in page
    assert_strict_page(page)


def test_a_security_engineer_edits_a_policy_with_a_code(security_person, api_policy):
    user, device, client = security_person
    assert f"/schedule/policies/{api_policy.pk}/edit/" in client.get("/schedule/policies/").content.decode()
    data = form_data(
        api_policy, interval_days=45, window_days=["0", "1"], window_start="22:00", window_end="02:00",
        window_tz="Europe/Berlin", otp_code=code_at_step(device, 0),
    )  # fmt: skip
    response = client.post(f"/schedule/policies/{api_policy.pk}/edit/", data)
    assert response.status_code == 302 and response["Location"] == "/schedule/policies/"
    assert RotationPolicy.objects.get(pk=api_policy.pk).interval_days == 45
    assert (
        PolicySettings.objects.get(policy=api_policy).window.describe()
        == "Mon, Tue 22:00–02:00 Europe/Berlin"
    )
    assert AuditEntry.objects.get(action=actions.POLICY_UPDATED).actor == user
    assert "Mon, Tue 22:00–02:00 Europe/Berlin" in client.get("/schedule/policies/").content.decode()


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"interval_days": "0"}, "between 1 and 3650"),
        ({"window_start": "01:00", "window_end": "02:00"}, "Pick at least one day"),
        ({"window_tz": "Mars/Olympus"}, "Select a valid choice"),
        ({"otp_code": "000000"}, "That code is not right"),
        ({"interval_days": "ten"}, "Enter a whole number"),
    ],
)
def test_a_bad_policy_form_says_what_to_fix_and_saves_nothing(security_person, api_policy, changes, words):
    _, device, client = security_person
    data = {**form_data(api_policy, otp_code=code_at_step(device, 0)), **changes}
    response = client.post(f"/schedule/policies/{api_policy.pk}/edit/", data)
    assert response.status_code == 400
    assert words in response.content.decode()
    assert RotationPolicy.objects.get(pk=api_policy.pk).interval_days == 90
    assert not PolicySettings.objects.exists() and not AuditEntry.objects.filter(
        action=actions.POLICY_UPDATED
    )
    assert_strict_page(response.content.decode())


def test_an_override_is_found_by_path_and_saved_with_a_code(security_person, make_secret):
    _, device, client = security_person
    secret = make_secret("secret/app/key")
    response = client.get("/schedule/overrides/", {"secret": "vault:secret/app/key"})
    assert response.status_code == 302 and response["Location"] == f"/schedule/overrides/{secret.pk}/"
    until = (timezone.now() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        f"/schedule/overrides/{secret.pk}/",
        {
            "exempt_until": until,
            "exempt_reason": "vendor migration",
            "window_tz": "UTC",
            "otp_code": code_at_step(device, 0),
        },
    )
    assert response.status_code == 302
    assert SecretOverride.objects.get(secret=secret).exempt_reason == "vendor migration"
    page = client.get("/schedule/overrides/").content.decode()
    assert "vendor migration" in page and "secret/app/key" in page
    assert f"<td>{until.replace('T', ' ')}</td>" in page  # next planned start: when the exemption ends


def test_an_unknown_secret_is_named_in_the_error(security_person):
    _, _, client = security_person
    response = client.get("/schedule/overrides/", {"secret": "vault:secret/nope"})
    assert (
        response.status_code == 400
        and "No secret vault:secret/nope in the inventory." in response.content.decode()
    )


def test_an_exemption_without_a_reason_is_refused_on_its_field(security_person, make_secret):
    _, device, client = security_person
    secret = make_secret()
    until = (timezone.now() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        f"/schedule/overrides/{secret.pk}/",
        {"exempt_until": until, "window_tz": "UTC", "otp_code": code_at_step(device, 0)},
    )
    assert response.status_code == 400
    assert 'id="id_exempt_reason_error"' in response.content.decode()
    assert not SecretOverride.objects.exists()


def test_linking_by_path_and_refusing_a_self_link(security_person, make_secret):
    _, device, client = security_person
    key, consumer = make_secret("secret/app/key"), make_secret("secret/app/consumer")
    response = client.post(
        "/schedule/links/new/",
        {
            "first": "vault:secret/app/key",
            "second": "vault:secret/app/key",
            "reason": "x",
            "otp_code": code_at_step(device, 0),
        },
    )
    assert response.status_code == 400 and "cannot be linked to itself" in response.content.decode()
    response = client.post(
        "/schedule/links/new/",
        {
            "first": "vault:secret/app/key",
            "second": str(consumer.pk),
            "reason": "key and consumer",
            "otp_code": code_at_step(device, 0),
        },
    )
    assert response.status_code == 302
    link = SecretLink.objects.get()
    assert {link.first_id, link.second_id} == {key.pk, consumer.pk}
    page = client.get("/schedule/links/").content.decode()
    assert "key and consumer" in page and f"/schedule/links/{link.pk}/remove/" in page

    response = client.post(f"/schedule/links/{link.pk}/remove/", {"otp_code": ""})
    assert response.status_code == 400 and SecretLink.objects.exists()  # a wrong code: test_services
    response = client.post(f"/schedule/links/{link.pk}/remove/", {"otp_code": code_at_step(device, 1)})
    assert response.status_code == 302 and not SecretLink.objects.exists()


def test_the_calendar_flags_a_collision_for_a_manager(make_secret):
    _, _, client = member("mona", "managers")
    soon = timezone.now().replace(second=0, microsecond=0) + timedelta(days=2)
    key = make_secret("secret/app/key", due=soon)
    consumer = make_secret("secret/app/consumer", due=soon + timedelta(minutes=10))
    SecretLink.objects.create(first=key, second=consumer, reason="key and consumer")

    page = client.get("/schedule/calendar/").content.decode()

    assert "2 rotations planned" in page and "1 collision of linked secrets" in page
    assert page.count(">Collision</span>") == 2
    assert f"staggered to {(soon + timedelta(hours=1)):%Y-%m-%d %H:%M}" in page
    assert f'href="#day-{soon:%Y-%m-%d}"' in page and f'id="day-{soon:%Y-%m-%d}"' in page
    assert "<caption>" in page and 'scope="col"' in page
    assert_strict_page(page)
    exempt = make_secret("secret/app/frozen", due=soon)
    SecretOverride.objects.create(
        secret=exempt, exempt_until=soon + timedelta(days=3), exempt_reason="code freeze"
    )
    page = client.get("/schedule/calendar/").content.decode()
    assert f"exempt until {(soon + timedelta(days=3)):%Y-%m-%d %H:%M}: code freeze" in page
    only = client.get("/schedule/calendar/", {"collisions": "1"}).content.decode()
    assert "secret/app/consumer" in only and "secret/app/frozen" not in only
