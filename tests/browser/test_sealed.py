"""Sealed Secrets on the `make run` stack: the demo repository as the security team sees it, and a
re-seal campaign started from the page that the stack's own worker carries out — commits in the
demo repository whose ciphertext opens with the demo controller's current private key."""

import subprocess
import time

import pytest
import yaml
from cryptography.hazmat.primitives import serialization

from secrets_admin.backends import sealing
from tests.browser.conftest import fresh_code, query
from tests.markers import requires_chromium

pytestmark = [pytest.mark.slow, pytest.mark.browser, requires_chromium]


def test_a_campaign_started_on_the_page_reseals_the_old_manifests(stack, carol):
    page = carol.page()
    page.goto(f"{stack.url}/sealed/")
    main = page.inner_text("main")
    assert "Sealed for an older certificate (2)" in main and "stripe-api" in main
    assert "malformed YAML" not in main  # a file-level problem belongs to the sync run, not a manifest
    assert page.locator("#certificates tbody tr").count() == 2
    code = fresh_code(stack, "carol")  # a step the login did not spend
    page.fill("#id_otp_code", code)
    page.click("button:has-text('Start re-seal campaign')")
    page.wait_for_selector("text=Re-seal campaign #")
    carol.watch.assert_clean(page)

    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        runs = query(stack, "SELECT state FROM rotation_rotationrun WHERE reason = 'campaign'")
        if len(runs) == 2 and all(state == "finished" for (state,) in runs):
            break
        time.sleep(1)
    assert sorted(state for (state,) in runs) == ["finished", "finished"], runs
    repo = stack.data_dir / "sealed" / "repo"
    messages = subprocess.run(
        ["git", "-C", str(repo), "log", "--format=%s", "main"], capture_output=True, text=True, check=True
    ).stdout
    assert messages.count("Re-seal ") == 2 and "reason campaign" in messages
    key = serialization.load_pem_private_key((stack.data_dir / "sealed/keys/current.key").read_bytes(), None)
    stripe = next(
        doc for doc in yaml.safe_load_all((repo / "apps/payments.yaml").read_text())
        if doc and doc["metadata"]["name"] == "stripe-api"
    )  # fmt: skip
    opened = sealing.unseal(stripe["spec"]["encryptedData"]["api-key"], key, b"payments/stripe-api")
    assert len(opened) >= 32
