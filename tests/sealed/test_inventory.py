"""Sealed manifests reach the inventory through the ordinary sync, values never."""

import pytest
from django.core.management import call_command

from secrets_admin.inventory.models import Secret, SecretVersion
from secrets_admin.inventory.services.sync import sync_backend

pytestmark = pytest.mark.django_db


def test_a_sync_brings_every_manifest_with_its_certificate_facts(sealed_backend, sealing_configured):
    clone = sealed_backend
    old = clone.add(
        "apps/billing.yaml", "billing-db", "billing", values={"password": "canary-pw-1"}, cert="old"
    )
    new = clone.add(
        "apps/web.yaml", "web-api", "web", values={"token": "canary-tok-2"}, metadata={"owner": "web"}
    )
    clone.add("apps/web.yaml", "web-api", "web", values={"token": "canary-tok-3"}, metadata={"owner": "web"})
    clone.write("apps/broken.yaml", "a: [oops\n")
    run = sync_backend("gitops", actor=None)
    assert run.state == "partial" and "apps/broken.yaml" in str(run.errors)
    rows = {s.path: s for s in Secret.objects.filter(backend="gitops")}
    assert set(rows) == {old, new}
    assert rows[old].details["certificate_status"] == "old"
    assert rows[old].details["certificate"] == sealing_configured["old"].fingerprint
    assert rows[new].owner_team == "web" and rows[new].details["keys"] == ["token"]
    assert SecretVersion.objects.filter(secret=rows[new]).count() == 2
    dump = str(list(Secret.objects.values())) + str(list(SecretVersion.objects.values()))
    assert not any(value in dump for value in ("canary-pw-1", "canary-tok-2", "canary-tok-3"))


def test_sync_inventory_command_walks_a_sealed_backend(sealed_backend, capsys):
    path = sealed_backend.add("a.yaml", "a", values={"v": "canary-cli"})
    call_command("sync_inventory", "--backend", "gitops")
    assert Secret.objects.filter(backend="gitops", path=path).exists()
    assert "canary-cli" not in capsys.readouterr().out
