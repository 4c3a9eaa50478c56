"""Rotation in the demo (`seed_demo`, `make run`): the payments API keys get rotation hooks at the
demo provider, which gets a read-only OpenBao token of its own; two of them are made due, so the
schedule beat rotates them within minutes, and any of them rotates on "Rotate now".

The supervisor passes DEMO_PROVIDER_URL and DEMO_PROVIDER_HMAC_KEY; without them nothing is done.
"""

import os
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from secrets_admin.backends import get_backend
from secrets_admin.backends.vault_setup import POLICY_DIR
from secrets_admin.inventory.models import Secret
from secrets_admin.rotation.services.hooks import do_set_hook

POLICY = "candlefish-demo-provider"
TOKEN_FILE = "demo-provider-token"
SEEDER = "manage.py seed_demo"


def provider_token(vault) -> str:
    """A read-only token for the provider (policy candlefish-demo-provider), via the adapter."""
    policy = (POLICY_DIR / f"{POLICY}.hcl").read_text()
    vault._call(
        "PUT", f"sys/policies/acl/{POLICY}", "write the demo provider's policy", json={"policy": policy}
    )
    answer = vault._call(
        "POST", "auth/token/create", "create the demo provider's token",
        json={"policies": [POLICY], "ttl": "720h", "no_parent": True, "no_default_policy": True,
              "display_name": "demo-provider"},
    )  # fmt: skip
    return answer["auth"]["client_token"]


def seed_rotation(stdout) -> None:
    url, key = os.environ.get("DEMO_PROVIDER_URL"), os.environ.get("DEMO_PROVIDER_HMAC_KEY")
    if not (url and key):
        stdout.write("rotation: no demo provider (DEMO_PROVIDER_URL unset); API keys rotate as plain values")
        return
    token_file = Path(settings.DATA_DIR) / TOKEN_FILE
    token_file.write_text(provider_token(get_backend("vault")))
    token_file.chmod(0o600)
    hooked = Secret.objects.filter(kind="api_key", path__contains="payments").exclude(status="missing")
    for secret in hooked:
        do_set_hook(secret, actor=SEEDER, url=f"{url.rstrip('/')}/hook", key=key)
    due = list(hooked.order_by("path")[:2])
    Secret.objects.filter(pk__in=[s.pk for s in due]).update(next_due=timezone.now() - timedelta(minutes=1))
    names = ", ".join(s.display_name for s in due)
    stdout.write(
        f"rotation: {hooked.count()} payments API keys hooked to the demo provider; due now: {names}"
    )
