"""The demo `make run` prepares: a key pair per certificate, a repository with manifests sealed
for the old and the current one, and one malformed file; made once, then left alone."""

import json

from secrets_admin.backends import sealed_certs, sealing
from secrets_admin.backends.sealed import SealedBackend
from secrets_admin.sealed import demo
from tests.backends.contract import walk
from tests.sealed.conftest import git


def test_the_demo_repository_shows_old_and_current_certificates_and_a_broken_file(tmp_path, settings):
    env = demo.prepare(tmp_path / "sealed", json.dumps({"other": {"kind": "aws"}}))
    backends = json.loads(env["SECRET_BACKENDS"])
    assert set(backends) == {"other", "gitops"}
    settings.SEALED_CERTIFICATES = env["SEALED_CERTIFICATES"].split(",")
    settings.SEALED_PRIVATE_KEYS = env["SEALED_PRIVATE_KEYS"].split(",")
    backend = SealedBackend("gitops", backends["gitops"])
    found, problems = walk(backend)
    statuses = {secret.name: secret.details["certificate_status"] for secret in found.values()}
    assert statuses == {
        "stripe-api": "old",
        "payments-db": "current",
        "web-session": "current",
        "registry-pull": "old",
    }
    assert [p.path for p in problems] == ["legacy/notes.yaml"] and "malformed YAML" in str(problems[0].error)
    assert {s.details["scope"] for s in found.values()} == {"strict", "namespace-wide", "cluster-wide"}
    stripe = next(s for s in found.values() if s.name == "stripe-api")
    assert stripe.metadata["owner"] == "payments" and stripe.details["author"] == "Demo Operator"
    old = next(c for c in sealed_certs.certificates() if c.private_key and sealed_certs.status_of(c) == "old")
    text = (tmp_path / "sealed/repo/apps/payments.yaml").read_text()
    assert (
        "stripe-api" in text
        and sealing.label_for("strict", "payments", "stripe-api") == b"payments/stripe-api"
    )
    assert old.fingerprint == stripe.details["certificate"]


def test_a_second_start_leaves_the_repository_and_keys_as_they_are(tmp_path):
    first = demo.prepare(tmp_path / "sealed")
    head = git(tmp_path / "sealed/repo", "rev-parse", "HEAD")
    keys = (tmp_path / "sealed/keys/current.key").read_bytes()
    assert demo.prepare(tmp_path / "sealed") == first
    assert git(tmp_path / "sealed/repo", "rev-parse", "HEAD") == head
    assert (tmp_path / "sealed/keys/current.key").read_bytes() == keys
