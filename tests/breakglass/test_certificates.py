"""Certificate grants: the token may issue, from the grant role, only the approved certificate's
names with `not_after` = the grant's end; anything else is refused by OpenBao; ending the grant
revokes every certificate it issued (the role's leases die with the token)."""

import json
import uuid
from io import StringIO

import hvac
import hvac.exceptions
import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from breakglass.models import Grant
from breakglass.models.grant import GrantState
from breakglass.services import approve, grants
from secrets_admin.backends.vault_tokens import PKI_ROLE, not_after

pytestmark = pytest.mark.django_db


@pytest.fixture
def certificate(root, db):
    """A real certificate in the test OpenBao's PKI and its inventory row."""
    from secrets_admin.inventory.models import Secret

    def make(common_name=None, alt=()):
        common_name = common_name or f"pay-{uuid.uuid4().hex[:8]}.candlefish.test"
        body = {"common_name": common_name, "ttl": "72h"}
        if alt:
            body["alt_names"] = ",".join(alt)
        issued = root.write("pki/issue/candlefish", **body)["data"]
        serial = issued["serial_number"].replace(":", "-")
        return Secret.objects.create(
            backend="vault",
            path=f"pki/cert/{serial}",
            name=common_name,
            kind="certificate",
            environment="production",
            details={"serial": serial, "common_name": common_name, "dns_names": [common_name, *alt]},
        )

    return make


def granted(ask, carol, erin, *secrets):
    access = ask(*secrets)
    approve.do_approve(access.pk, actor=carol.user, code=carol.code())
    approve.do_approve(access.pk, actor=erin.user, code=erin.code())
    return access, Grant.objects.get(request=access)


def test_a_certificate_grant_issues_only_its_names_until_the_grant_ends(
    ask, carol, erin, alice, certificate, openbao, root
):
    cert = certificate(alt=("alt-one.candlefish.test",))
    access, grant = granted(ask, carol, erin, cert)
    assert grant.state == GrantState.ACTIVE, grant.error
    assert access.scope[0]["names"] == [cert.details["common_name"], "alt-one.candlefish.test"]
    token = grants.do_reveal(grant.pk, actor=alice.user, code=alice.code())
    client = hvac.Client(url=openbao.url, token=token)
    until = not_after(grant.expires_at)
    page = alice.client().get(grant.get_absolute_url()).content.decode()
    assert (
        f"common_name={cert.details['common_name']} alt_names=alt-one.candlefish.test not_after={until}"
        in page
    )
    issue = f"pki/issue/{PKI_ROLE}"
    made = client.write(issue, common_name=cert.details["common_name"], not_after=until)["data"]
    assert made["private_key"] and made["certificate"]
    from cryptography import x509

    pem = x509.load_pem_x509_certificate(made["certificate"].encode())
    assert pem.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ") == until
    refused = [
        {"common_name": "other.candlefish.test", "not_after": until},  # another name
        {"common_name": cert.details["common_name"], "ttl": "8760h"},  # no not_after, a long ttl
        {"common_name": cert.details["common_name"], "not_after": "2099-01-01T00:00:00Z"},
        {"common_name": cert.details["common_name"], "not_after": until, "alt_names": "evil.test"},
    ]
    for body in refused:
        with pytest.raises(hvac.exceptions.Forbidden):
            client.write(issue, **body)
    with pytest.raises(hvac.exceptions.Forbidden):  # nor the console's own, broader role
        client.write("pki/issue/candlefish", common_name=cert.details["common_name"], not_after=until)
    out = StringIO()
    call_command("breakglass", "status", str(access.pk), "--json", stdout=out)
    assert json.loads(out.getvalue())["grant"]["issue_commands"] == [
        f"bao write pki/issue/{PKI_ROLE} common_name={cert.details['common_name']} "
        f"alt_names=alt-one.candlefish.test not_after={until}"
    ]
    serial = made["serial_number"]
    assert root.read(f"pki/cert/{serial}")["data"]["revocation_time"] == 0

    grants.do_end(grant.pk, actor=carol.user, code=carol.code(), reason="incident over")
    grant.refresh_from_db()
    assert grant.state == GrantState.REVOKED
    assert root.read(f"pki/cert/{serial}")["data"]["revocation_time"] > 0  # on the CRL now
    with pytest.raises(hvac.exceptions.InvalidRequest):
        root.auth.token.lookup_accessor(grant.accessor)


def test_a_wildcard_certificate_is_refused_in_words(ask, certificate):
    cert = certificate()
    cert.details = {**cert.details, "common_name": "*.candlefish.test", "dns_names": ["*.candlefish.test"]}
    cert.save()
    with pytest.raises(ValidationError, match="certificates with plain DNS names"):
        ask(cert)
