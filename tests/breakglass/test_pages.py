"""The pages, as each person uses them: ask (pre-filled from the inventory), read what is being
approved before anything else, approve with the code in the form, reveal once, end."""

import re

import hvac
import pytest

from breakglass.models import AccessRequest, Approval, Grant
from breakglass.models.grant import GrantState
from breakglass.models.request import Status

pytestmark = pytest.mark.django_db
REASON = "The payments database is down and I must read its password."


def test_the_inventory_button_opens_a_request_prefilled_with_the_secret(alice, secret_at):
    secret = secret_at("payments/db")
    client = alice.client()
    page = client.get(f"/inventory/{secret.pk}/").content.decode()
    assert f'href="/access/new/?secret={secret.pk}"' in page
    form = client.get(f"/access/new/?secret={secret.pk}").content.decode()
    assert f"{secret.path}</textarea>" in form


def test_a_bad_request_says_what_to_fix_and_creates_nothing(alice, secret_at):
    secret = secret_at("payments/db")
    response = alice.client().post(
        "/access/new/", {"kind": "break_glass", "scope": secret.path, "reason": "pls", "duration": "12h"}
    )
    assert response.status_code == 400
    assert "real sentence" in response.content.decode()
    assert not AccessRequest.objects.exists()


def test_ask_approve_twice_reveal_and_end_through_the_pages(
    alice, carol, erin, actor, secret_at, openbao, kv_prefix, root
):
    from secrets_admin.roles import SECURITY_TEAM

    dave = actor("dave", SECURITY_TEAM)  # types a wrong code (and is then held back a second)
    secret = secret_at("payments/db", "page-value")
    response = alice.client().post(
        "/access/new/",
        {
            "kind": "break_glass",
            "scope": secret.path,
            "reason": REASON,
            "duration": "2h",
            "record_session": "on",
        },
    )
    access = AccessRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/access/{access.pk}/"

    # the approval page: what is approved comes first, then the form with the code box in it
    page = carol.client().get(f"/access/{access.pk}/").content.decode()
    summary, form = page.index("What is being approved"), page.index('name="otp_code"')
    assert summary < form
    for fact in (
        "alice",
        REASON,
        secret.path,
        "2 h",
        "security-team and cto",
        access.fingerprint,
        "production secrets",
    ):
        assert fact in page[summary:form], fact
    assert carol.client().get("/access/approvals/").content.decode().count(f"/access/{access.pk}/") == 1

    post = {"seen_hash": access.request_hash}
    assert (
        dave.client().post(f"/access/{access.pk}/approve/", {**post, "otp_code": "000000"}).status_code == 400
    )
    assert not Approval.objects.exists()
    carol_client = carol.client()
    assert (
        carol_client.post(f"/access/{access.pk}/approve/", {**post, "otp_code": carol.code()}).status_code
        == 302
    )
    access.refresh_from_db()
    assert access.status == Status.PENDING
    assert (
        erin.client().post(f"/access/{access.pk}/approve/", {**post, "otp_code": erin.code()}).status_code
        == 302
    )
    access.refresh_from_db()
    grant = Grant.objects.get(request=access)
    assert access.status == Status.ACTIVE and grant.state == GrantState.ACTIVE

    # the requester reveals once: ready-to-paste lines, never stored by the browser
    client = alice.client()
    reveal = client.post(f"/access/grants/{grant.pk}/reveal/", {"otp_code": alice.code()})
    assert reveal.status_code == 200 and "no-store" in reveal["Cache-Control"]
    text = reveal.content.decode()
    token = re.search(r"VAULT_TOKEN=(\S+)</pre>", text).group(1)
    assert f"VAULT_ADDR={openbao.url}" in text
    value = hvac.Client(url=openbao.url, token=token).secrets.kv.v2.read_secret_version(
        path=f"{kv_prefix}/payments/db", mount_point="secret", raise_on_deleted_version=True
    )
    assert value["data"]["data"]["value"] == "page-value"
    again = client.get(f"/access/grants/{grant.pk}/").content.decode()
    assert token not in again and 'action="/access/grants/' + str(grant.pk) + '/reveal/"' not in again
    assert client.post(f"/access/grants/{grant.pk}/reveal/", {"otp_code": alice.code()}).status_code == 400

    # the security team ends it early with a code; the token is gone in OpenBao
    assert carol_client.post(f"/access/grants/{grant.pk}/end/", {"otp_code": carol.code()}).status_code == 302
    grant.refresh_from_db()
    assert grant.state == GrantState.REVOKED
    with pytest.raises(hvac.exceptions.InvalidRequest):
        root.auth.token.lookup_accessor(grant.accessor)

    # the evidence: one page and one export, approvals with their MFA proof
    doc = carol_client.get(f"/access/{access.pk}/evidence.json").json()
    assert [a["mfa"]["purpose"] for a in doc["approvals"]] == [
        f"breakglass.approve:{access.request_hash}"
    ] * 2
    assert doc["grant"]["accessor"] == grant.accessor and doc["review"] is not None
    assert token not in str(doc)
    assert carol_client.get(f"/access/{access.pk}/evidence/").status_code == 200


def test_a_developer_cannot_read_someone_elses_request(alice, actor, secret_at, ask):
    from secrets_admin.roles import DEVELOPERS

    bob = actor("bob", DEVELOPERS)
    access = ask(secret_at("x"))
    assert bob.client().get(f"/access/{access.pk}/").status_code == 403
    assert alice.client().get(f"/access/{access.pk}/").status_code == 200


def test_the_requester_edits_through_the_page_and_the_approvals_start_over(alice, carol, secret_at, ask):
    from breakglass.services import approve

    access = ask(secret_at("x"))
    approve.do_approve(access.pk, actor=carol.user, code=carol.code())
    client = alice.client()
    assert carol.client().get(f"/access/{access.pk}/edit/").status_code == 403
    page = client.get(f"/access/{access.pk}/edit/").content.decode()
    assert "voids every approval" in page
    form = {"scope": "\n".join(access.paths), "reason": access.reason, "duration": "90m", "groups": ""}
    assert client.post(f"/access/{access.pk}/edit/", form).status_code == 302
    access.refresh_from_db()
    assert access.duration_seconds == 90 * 60 and access.revision == 2
    assert not Approval.objects.filter(request=access, voided_at__isnull=True).exists()


def test_a_denial_through_the_page_is_final_and_the_export_is_audited(alice, erin, secret_at, ask):
    from secrets_admin.audit.models import AuditEntry

    access = ask(secret_at("x"))
    client = erin.client()
    assert client.post(f"/access/{access.pk}/deny/", {"note": "Use staging."}).status_code == 302
    access.refresh_from_db()
    assert access.status == Status.DENIED and access.deny_note == "Use staging."
    assert client.post(f"/access/{access.pk}/deny/", {}).status_code == 400  # already denied, in words
    doc = client.get(f"/access/{access.pk}/evidence.json").json()
    assert doc["request"]["status"] == "denied" and doc["request"]["denied_by"] == "erin"
    assert AuditEntry.objects.filter(action="breakglass.evidence.exported", target_id=str(access.pk)).exists()


def test_a_manager_reads_a_request_and_every_link_on_it_opens(alice, frank, secret_at, ask):
    """Managers read every request but ask for nothing: the page's crumb leads to all requests,
    never to "my requests" (a 403 for them)."""
    access = ask(secret_at("x"))
    client = frank.client()
    page = client.get(f"/access/{access.pk}/").content.decode()
    access_links = set(re.findall(r'href="(/access/[^"]*)"', page))
    assert "/access/all/" in access_links and "/access/" not in access_links
    assert all(client.get(link).status_code == 200 for link in access_links)
