"""Fixtures for Sealed Secrets: controller key pairs (an old one and the current one), the console
configured with them, and git clones of SealedSecret manifests written and committed for real."""

import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from secrets_admin.backends import sealed_certs, sealing
from secrets_admin.backends.sealed_manifests import PREFIX, document, manifest_path
from secrets_admin.sealed.keys import make_controller_key
from tests.inventory.conftest import client_for, people, person, totp_for  # noqa: F401  (shared fixtures)

AUTHOR = ("Ada Operator", "ada@example.com")


def git(path, *args) -> str:
    return subprocess.run(
        ["git", "-C", str(path), "-c", f"user.name={AUTHOR[0]}", "-c", f"user.email={AUTHOR[1]}", *args],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


@pytest.fixture(scope="session")
def controller_keys(tmp_path_factory):
    """Two controller key pairs: `old` (superseded, still valid) and `current` (newest)."""
    folder = tmp_path_factory.mktemp("sealing-keys")
    now = datetime.now(UTC)
    old = make_controller_key(
        folder, "old", not_before=now - timedelta(days=400), not_after=now + timedelta(days=3000)
    )
    current = make_controller_key(
        folder, "current", not_before=now - timedelta(days=10), not_after=now + timedelta(days=3600)
    )
    return {"old": old, "current": current}


@pytest.fixture
def sealing_configured(settings, controller_keys):
    """The console knows both certificates and, as in the demo, both private keys."""
    settings.SEALED_CERTIFICATES = [str(k.certificate) for k in controller_keys.values()]
    settings.SEALED_PRIVATE_KEYS = [str(k.private_key) for k in controller_keys.values()]
    known = {cert.fingerprint: cert for cert in sealed_certs.certificates()}  # with their private keys
    return {
        name: known[sealed_certs.load_certificate(str(k.certificate))[0].fingerprint]
        for name, k in controller_keys.items()
    }


class Clone:
    """A git repository of manifests on disk, written through git itself."""

    def __init__(self, path: Path, certs: dict):
        self.path = path
        self.certs = certs
        path.mkdir(parents=True, exist_ok=True)
        git(path, "init", "--quiet", "--initial-branch=main")

    def write(self, file: str, text: str, message: str = "update") -> None:
        target = self.path / file
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        git(self.path, "add", "--", file)
        git(self.path, "commit", "--quiet", "-m", message)

    def sealed(
        self, name, namespace="apps", *, values, scope="strict", cert="current", annotations=None
    ) -> dict:
        public = self.certs[cert].public_key
        label = sealing.label_for(scope, namespace, name)
        encrypted = {key: sealing.seal(value.encode(), public, label) for key, value in values.items()}
        return document(
            name=name, namespace=namespace, scope=scope, encrypted=encrypted, annotations=annotations
        )

    def add(self, file, name, namespace="apps", *, values, metadata=None, annotations=None, **kwargs) -> str:
        annotations = {
            **(annotations or {}),
            **{PREFIX + key: value for key, value in (metadata or {}).items()},
        }
        doc = self.sealed(name, namespace, values=values, annotations=annotations, **kwargs)
        self.write(file, yaml.safe_dump(doc, sort_keys=False), f"seal {name}")
        return manifest_path(file, namespace, name)


@pytest.fixture
def clone(tmp_path, sealing_configured):
    return Clone(tmp_path / f"gitops-{uuid.uuid4().hex[:6]}", sealing_configured)


@pytest.fixture
def sealed_backend(settings, clone):
    """The clone configured as backend "gitops" (kind sealed); returns the clone."""
    settings.SECRET_BACKENDS = {
        **settings.SECRET_BACKENDS,
        "gitops": {"kind": "sealed", "path": str(clone.path)},
    }
    return clone
